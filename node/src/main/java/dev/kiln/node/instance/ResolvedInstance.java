package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Hypervisor;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.node.program.ResolvedItem;
import java.util.List;
import java.util.Objects;

/**
 * An INSTANCE message checked and resolved to verified local files: the parent image of its disk
 * and its volumes in the message's order, each with its mount point (null: attached, not mounted).
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

    /** A volume of the instance; its position in {@link #volumes()} is its drive's serial number. */
    public sealed interface Volume {
        String mount();
    }

    /** An immutable volume: a verified image from the store, attached read-only. */
    public record Immutable(ResolvedItem item, String mount) implements Volume {
    }

    /**
     * A persistent volume ({@code persistence: host}), kept per (owner, name) by the node's
     * {@code PersistentVolumes}; {@code parent} (or null) is what it is first made from.
     */
    public record Persistent(String owner, String name, long sizeMib, ResolvedItem parent, String mount) implements Volume {
    }

    /** An ephemeral volume: a new empty ext4 at each start of the instance's QEMU. */
    public record Scratch(long sizeMib, String mount) implements Volume {
    }

    public ResolvedInstance {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(parent, "parent");
        volumes = List.copyOf(volumes);
    }
}
