package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.Resources;
import java.util.List;
import java.util.Objects;

/**
 * A PROGRAM message that passed every check, with each of its references resolved to a verified
 * local file: everything needed to boot it.
 *
 * @param volumes   immutable volumes, in the message's order, with their mount points
 * @param scratch   ephemeral volumes, in the message's order: made empty for each VM
 * @param kept      persistent volumes ({@code persistence: host}), in the message's order
 * @param data      the program's data archive, or null
 */
public record ResolvedProgram(ItemHash messageHash, ProgramContent content, ResolvedItem code, ResolvedItem runtime,
                              List<MountedVolume> volumes, List<Scratch> scratch, List<Kept> kept,
                              ResolvedItem data) {

    /** An immutable volume and where the program sees it. */
    public record MountedVolume(ResolvedItem item, String mount) {
    }

    /** An ephemeral volume: its size (checked against aleph's limit by the validator) and mount point. */
    public record Scratch(long sizeMib, String mount) {
    }

    /**
     * A persistent volume: found again by its owner address and name.
     *
     * @param parent the verified image it is first made from, or null (made empty)
     */
    public record Kept(String owner, String name, long sizeMib, String mount, ResolvedItem parent) {
    }

    public ResolvedProgram {
        Objects.requireNonNull(messageHash, "messageHash");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(runtime, "runtime");
        volumes = List.copyOf(volumes);
        scratch = List.copyOf(scratch);
        kept = List.copyOf(kept);
    }

    public Resources resources() {
        return content.resourcesOrDefault();
    }
}
