package dev.kiln.node.pool;

import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where persistent programs' VMs live so that they outlive the node (docs/node.md, "Restarts"):
 * their work directories, under the Kiln home rather than the node process's own directory, and
 * the records that name them. A VM is detached only if everything it uses survives the node with
 * it: today that means no network card (TAP, rules and forwarded ports are the node's) and no
 * writable drive (volumes are locked by the node process); other persistent VMs stop with the node.
 */
public record Detachment(Path directory, DetachedVmRecords records) {
    public Detachment {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(records, "records");
    }

    /** True if a VM of this spec can be left running for the next node. */
    static boolean possibleFor(VmSpec spec) {
        return spec.nic() == null && spec.drives().stream().allMatch(Drive::readOnly);
    }

    /** The spec with its work directory moved under {@link #directory()}. */
    VmSpec place(VmSpec spec, String executionId) {
        return new VmSpec(spec.name(), spec.kernel(), spec.rootfs(), spec.rootfsType(), spec.drives(), spec.memoryMiB(),
                spec.vcpus(), spec.kernelArgs(), directory.resolve(executionId), spec.bootTimeout(), spec.nic());
    }
}
