package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Hypervisor;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.node.program.ResolvedItem;
import java.util.List;
import java.util.Objects;

/**
 * An INSTANCE message checked and resolved to verified local files: the parent image of its disk
 * and its immutable volumes with their mount points (null: attached, not mounted).
 */
public record ResolvedInstance(ItemHash message, InstanceContent content, ResolvedItem parent, List<Volume> volumes) {
    /** A disk-image instance ({@code environment.hypervisor: qemu}): the parent is a whole disk with its own bootloader. */
    public boolean diskImage() {
        return content.environment() != null && content.environment().knownHypervisor().orElse(null) == Hypervisor.QEMU;
    }

    /** The parent's format as {@code qemu-img} names it: a disk image's header says, a root filesystem is raw. */
    public String parentFormat() {
        return diskImage() && InstanceResolver.isQcow2(parent.file()) ? "qcow2" : "raw";
    }

    public record Volume(ResolvedItem item, String mount) {
    }

    public ResolvedInstance {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(parent, "parent");
        volumes = List.copyOf(volumes);
    }
}
