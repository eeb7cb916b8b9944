package dev.kiln.node.restart;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.pool.Detachment;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.store.records.RecordsException;
import dev.kiln.vm.VmLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * At a node's start, before anything boots: the VMs an earlier node left running that this node
 * will not adopt are ended — a record whose program is no longer kept, and a work directory no
 * record names (a node killed between a detached VM's boot and its record) — with what they held
 * (scratch images, claims on persistent volumes, which stay marked for a check). The persistent
 * volumes of the VMs it will adopt are claimed again for them, so that no other VM attaches one
 * meanwhile. So a VM never outlives every node that could know of it (docs/node.md, "Restarts").
 */
public final class DetachedSweep {
    private static final System.Logger LOG = System.getLogger(DetachedSweep.class.getName());

    private DetachedSweep() {
    }

    /** @param kept the persistent programs this node keeps running (their recorded VMs are adopted) */
    public static void sweep(ExecutionPool pool, VmLauncher launcher, Set<ItemHash> kept) {
        Detachment detachment = pool.detachment();
        if (detachment == null) return;
        Optional<PersistentVolumes> volumes = pool.persistentVolumes();
        Set<Path> named = new HashSet<>();
        try {
            for (DetachedVmRecords.Row row : detachment.records().list()) {
                if (kept.contains(row.program()) && reclaimed(row, volumes)) {
                    named.add(row.vm().workDir());
                    continue;
                }
                LOG.log(System.Logger.Level.INFO, "program " + row.program() + (kept.contains(row.program())
                        ? "'s VM cannot be adopted" : " is no longer kept") + ": ending the VM " + row.vm().vmId()
                        + " an earlier node left running");
                launcher.discard(row.vm().workDir());
                named.add(row.vm().workDir()); // ended already: not once more as a directory no row names
                detachment.letGo(row, volumes, pool.networks());
                detachment.records().remove(row.program(), row.vm().workDir());
            }
        } catch (RecordsException e) {
            // Without the records nothing can be told apart: leave every directory as it is.
            LOG.log(System.Logger.Level.WARNING, "cannot read the records of VMs left running: " + e.getMessage());
            return;
        }
        List<Path> dirs;
        try (var list = Files.list(detachment.directory())) {
            dirs = list.filter(Files::isDirectory).map(p -> p.toAbsolutePath().normalize()).toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list " + detachment.directory() + ": " + e.getMessage());
            return;
        }
        Set<Path> namedNormal = new HashSet<>();
        for (Path p : named) namedNormal.add(p.toAbsolutePath().normalize());
        for (Path dir : dirs) {
            if (!namedNormal.contains(dir)) launcher.discard(dir);
        }
    }

    private static boolean reclaimed(DetachedVmRecords.Row row, Optional<PersistentVolumes> volumes) {
        if (volumes.isEmpty()) return true;
        try {
            volumes.get().reclaim(row.holdings().drives(), row.holdings().vmName());
            return true;
        } catch (PersistentVolumes.InUseException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage());
            return false;
        }
    }
}
