package dev.kiln.node.restart;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.pool.Detachment;
import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.store.records.RecordsException;
import dev.kiln.vm.VmLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * At a node's start, before anything boots: the VMs an earlier node left running that this node
 * will not adopt are ended — a record whose program is no longer kept, and a work directory no
 * record names (a node killed between a detached VM's boot and its record). So a VM never
 * outlives every node that could know of it (docs/node.md, "Restarts").
 */
public final class DetachedSweep {
    private static final System.Logger LOG = System.getLogger(DetachedSweep.class.getName());

    private DetachedSweep() {
    }

    /** @param kept the persistent programs this node keeps running (their recorded VMs are adopted) */
    public static void sweep(Detachment detachment, VmLauncher launcher, Set<ItemHash> kept) {
        if (detachment == null) return;
        Set<Path> named = new HashSet<>();
        try {
            for (DetachedVmRecords.Row row : detachment.records().list()) {
                if (kept.contains(row.program())) {
                    named.add(row.vm().workDir());
                    continue;
                }
                LOG.log(System.Logger.Level.INFO, "program " + row.program() + " is no longer kept: ending the VM "
                        + row.vm().vmId() + " an earlier node left running");
                launcher.discard(row.vm().workDir());
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
}
