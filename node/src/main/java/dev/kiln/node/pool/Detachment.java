package dev.kiln.node.pool;

import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.volume.ScratchVolumes;
import dev.kiln.vm.VmSpec;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where persistent programs' VMs live so that they outlive the node (docs/node.md, "Restarts"):
 * their work directories, under the Kiln home rather than the node process's own directory, and
 * the records that name them and what they hold. A VM is detached only if everything it uses
 * survives the node with it: its writable drives do (persistent volumes are claimed again by the
 * next node from the record, scratch images live in the work directory); a network card does not
 * yet (TAP, rules and forwarded ports are the node process's), so such a VM stops with the node.
 */
public record Detachment(Path directory, DetachedVmRecords records) {
    private static final System.Logger LOG = System.getLogger(Detachment.class.getName());

    public Detachment {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(records, "records");
    }

    /** True if a VM of this spec can be left running for the next node. */
    static boolean possibleFor(VmSpec spec) {
        return spec.nic() == null;
    }

    /** The spec with its work directory moved under {@link #directory()}. */
    VmSpec place(VmSpec spec, String executionId) {
        return new VmSpec(spec.name(), spec.kernel(), spec.rootfs(), spec.rootfsType(), spec.drives(), spec.memoryMiB(),
                spec.vcpus(), spec.kernelArgs(), directory.resolve(executionId), spec.bootTimeout(), spec.nic());
    }

    /** What the record of a VM of this spec must say for the next node: the name volumes are claimed under, its writable drives. */
    static DetachedVmRecords.Holdings holdings(VmSpec spec) {
        return new DetachedVmRecords.Holdings(spec.name(), spec.drives().stream().filter(d -> !d.readOnly()).toList(), null);
    }

    /**
     * The recorded VM no longer runs (its QEMU was killed, the host rebooted, or a sweep ended it):
     * its scratch images go, its persistent volumes are free again but keep their dirty marker (so
     * each is checked with e2fsck before its next attach), its network is removed.
     */
    public void letGo(DetachedVmRecords.Row row, Optional<PersistentVolumes> volumes, ProgramNetworks networks) {
        DetachedVmRecords.Holdings held = row.holdings();
        if (!ScratchVolumes.discard(held.drives())) {
            LOG.log(System.Logger.Level.WARNING, "could not remove every scratch image of VM " + row.vm().vmId());
        }
        // An export drive of a VM that did not stop is not packed: its filesystem may be half written.
        dev.kiln.node.export.DataExports.discard(held.drives());
        volumes.ifPresent(v -> v.release(held.drives(), held.vmName(), false));
    }
}
