package dev.kiln.node.snapshot;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Volume;
import dev.kiln.guest.GuestInit;
import dev.kiln.guest.ProgramConfig;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.snapshot.SnapshotKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which programs may be snapshotted, and the key of what shaped a program's guest. Any part of the
 * key that changes gives a new key, so a changed program simply finds no snapshot and boots.
 */
final class SnapshotPolicy {
    /** Bumped when the node changes what a snapshot of a program contains or how it is restored. */
    static final String NODE_SNAPSHOT_VERSION = "2";
    /** The agent the node puts in guests (init1's bytes): a new agent must not wake up in an old copy. */
    private static final String AGENT = ItemHash.sha256Of(GuestInit.init1()).value();

    private SnapshotPolicy() {
    }

    /** Why this program's VM is never snapshotted, or empty if it may be. */
    static Optional<String> refusal(ResolvedProgram program, VmSpec spec, SnapshotSettings settings) {
        if (!settings.enabled()) return Optional.of("snapshots are off on this node");
        if (settings.optOut().contains(program.messageHash())) return Optional.of("the program opted out (node setting)");
        for (Volume v : program.content().volumesOrEmpty()) {
            // The disk would move on after the save while the copy's page cache stays at the save.
            if (v instanceof EphemeralVolume || v instanceof PersistentVolume) {
                return Optional.of("it declares a writable volume (" + v.mount() + ")");
            }
        }
        if (program.content().export() != null) {
            return Optional.of("it exports its data directory (a writable volume of its own)");
        }
        return Optional.empty();
    }

    static SnapshotKey key(ResolvedProgram program, VmSpec spec, ProgramConfig config) {
        SnapshotKey.Builder b = SnapshotKey.builder()
                .kernel(fileIdentity(spec.kernel()))
                .runtime(program.runtime().resolved().value())
                .code(program.code().resolved().value() + "/" + program.code().fileHash())
                .data(program.data() == null ? null : program.data().resolved().value() + "/" + program.data().fileHash())
                .variables(config.variables())
                .memoryMiB(spec.memoryMiB())
                .vcpus(spec.vcpus());
        for (Drive d : spec.drives()) b.volume(d.id(), fileIdentity(d.file()) + (d.readOnly() ? " ro" : " rw"));
        // The guest knows its item hash (CONFIGURE): another program is another guest.
        return b.guestConfig("node-snapshot", NODE_SNAPSHOT_VERSION)
                .guestConfig("item-hash", String.valueOf(config.itemHash()))
                .guestConfig("agent", AGENT)
                .guestConfig("interface", config.programInterface().name())
                .guestConfig("encoding", config.code().encoding().name())
                .guestConfig("entrypoint", config.code().entrypoint())
                .guestConfig("port", String.valueOf(config.port()))
                .guestConfig("data-mount", String.valueOf(config.dataMount()))
                .guestConfig("volume-mounts", config.volumes().toString())
                // Whether it has one, not which: a networked VM's hostname is its execution's, and a
                // copy is given its own with RESTORED.
                .guestConfig("hostname", config.hostname() == null ? "none" : "per-vm")
                .guestConfig("kernel-args", String.join(" ", spec.kernelArgs()))
                .guestConfig("network", networkShape(spec, config))
                .build();
    }

    /**
     * What a networked guest's snapshot has in common with every copy: that it has a NIC and which
     * families it was configured with. Not the address, gateway, resolvers or MAC: each VM has its
     * own, and a copy takes them from RESTORED (docs/snapshots.md, "Networked programs").
     */
    private static String networkShape(VmSpec spec, ProgramConfig config) {
        ProgramConfig.Network n = config.network();
        if (spec.nic() == null || n == null) return spec.nic() == null ? "none" : "nic, unconfigured";
        String prefix = n.address().substring(n.address().indexOf('/') + 1);
        return "nic " + (n.interfaceName() == null ? "eth0" : n.interfaceName()) + " ipv4/" + prefix
                + (n.gateway() == null ? "" : " gateway") + (n.address6() == null ? "" : " ipv6")
                + (n.gateway6() == null ? "" : " gateway6");
    }

    /** A file's identity for the key: its name, size and modification time (hashing it every cold start costs too much). */
    private static String fileIdentity(Path file) {
        try {
            return file.getFileName() + ":" + Files.size(file) + ":" + Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return file.getFileName() + ":unreadable";
        }
    }
}
