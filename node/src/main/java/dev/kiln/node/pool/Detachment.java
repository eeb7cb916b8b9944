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
 * the records that name them and what they hold. Every persistent program's VM is detached, with
 * what it uses: its writable drives (persistent volumes are claimed again by the next node from
 * the record, scratch images and the export drive live in the work directory) and its network card
 * (the TAP, its nftables elements, its subnet and forwarded ports are recorded, kept by the next
 * node's network start and claimed again on adoption). Only a card whose network cannot be
 * recorded (none attached under the execution: not a node's network) keeps a VM with its node.
 */
public record Detachment(Path directory, DetachedVmRecords records) {
    private static final System.Logger LOG = System.getLogger(Detachment.class.getName());

    public Detachment {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(records, "records");
    }

    /**
     * True if a VM of this spec can be left running for the next node: always, but for a network
     * card without a recordable network ({@code network} as {@code ProgramNetworks.held} gives it).
     */
    static boolean possibleFor(VmSpec spec, String network) {
        return spec.nic() == null || network != null;
    }

    /** The spec with its work directory moved under {@link #directory()}. */
    VmSpec place(VmSpec spec, String executionId) {
        return new VmSpec(spec.name(), spec.kernel(), spec.rootfs(), spec.rootfsType(), spec.drives(), spec.memoryMiB(),
                spec.vcpus(), spec.kernelArgs(), directory.resolve(executionId), spec.bootTimeout(), spec.nic());
    }

    /**
     * What the record of a VM of this spec must say for the next node: the name its volumes are
     * claimed under, its writable drives, its network (null: no card).
     */
    static DetachedVmRecords.Holdings holdings(VmSpec spec, String network) {
        return new DetachedVmRecords.Holdings(spec.name(), spec.drives().stream().filter(d -> !d.readOnly()).toList(), network);
    }

    /**
     * The recorded VM no longer runs (its QEMU was killed, the host rebooted, or a sweep ended it):
     * its scratch images go, its persistent volumes are free again but keep their dirty marker (so
     * each is checked with e2fsck before its next attach), its TAP, rules and ports are removed.
     */
    public void letGo(DetachedVmRecords.Row row, Optional<PersistentVolumes> volumes, ProgramNetworks networks) {
        DetachedVmRecords.Holdings held = row.holdings();
        if (!ScratchVolumes.discard(held.drives())) {
            LOG.log(System.Logger.Level.WARNING, "could not remove every scratch image of VM " + row.vm().vmId());
        }
        // An export drive of a VM that did not stop is not packed: its filesystem may be half written.
        dev.kiln.node.export.DataExports.discard(held.drives());
        volumes.ifPresent(v -> v.release(held.drives(), held.vmName(), false));
        // Held under the recorded execution until an adoption takes it over.
        if (held.network() == null) return;
        try {
            networks.detach(row.execution());
        } catch (RuntimeException x) {
            LOG.log(System.Logger.Level.WARNING, "could not remove the network of VM " + row.vm().vmId()
                    + " (the node's next network start sweeps it): " + x.getMessage());
        }
    }
}
