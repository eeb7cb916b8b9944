package dev.kiln.node.snapshot;

import dev.kiln.core.hash.ItemHash;
import java.util.Objects;
import java.util.Set;

/**
 * The node's snapshot knobs (docs/snapshots.md, "The node").
 *
 * @param enabled  whether cold starts after the first may restore snapshots (default on)
 * @param capBytes the snapshot store's size cap, apparent sizes (default 4 GiB); least recently
 *                 used snapshots are evicted past it
 * @param optOut   programs (message item hashes) that are never snapshotted
 */
public record SnapshotSettings(boolean enabled, long capBytes, Set<ItemHash> optOut) {
    public static final long DEFAULT_CAP_BYTES = 4L << 30;

    public SnapshotSettings {
        if (capBytes < 0) throw new IllegalArgumentException("the snapshot cap cannot be negative, got " + capBytes);
        optOut = Set.copyOf(Objects.requireNonNull(optOut, "optOut"));
    }

    public static SnapshotSettings defaults() {
        return new SnapshotSettings(true, DEFAULT_CAP_BYTES, Set.of());
    }

    public static SnapshotSettings off() {
        return new SnapshotSettings(false, DEFAULT_CAP_BYTES, Set.of());
    }

    public SnapshotSettings withCapBytes(long cap) {
        return new SnapshotSettings(enabled, cap, optOut);
    }

    public SnapshotSettings withOptOut(Set<ItemHash> programs) {
        return new SnapshotSettings(enabled, capBytes, programs);
    }

    public SnapshotSettings withEnabled(boolean on) {
        return new SnapshotSettings(on, capBytes, optOut);
    }
}
