package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.node.program.ResolvedItem;
import java.util.List;
import java.util.Objects;

/**
 * An INSTANCE message checked and resolved to verified local files: the parent image of its disk
 * and its immutable volumes with their mount points (null: attached, not mounted).
 */
public record ResolvedInstance(ItemHash message, InstanceContent content, ResolvedItem parent, List<Volume> volumes) {
    public record Volume(ResolvedItem item, String mount) {
    }

    public ResolvedInstance {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(parent, "parent");
        volumes = List.copyOf(volumes);
    }
}
