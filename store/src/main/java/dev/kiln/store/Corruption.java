package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A stored blob whose bytes no longer hash to its name.
 *
 * @param expected the item hash the blob is stored under
 * @param actual   the SHA-256 of the bytes actually found
 * @param size     how many bytes were found
 * @param movedTo  where the blob now lies in the quarantine, or null if another reader had already
 *                 moved it (or a fresh copy replaced it) before this one could
 */
public record Corruption(ItemHash expected, ItemHash actual, long size, Path movedTo) {
    public Corruption {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(actual, "actual");
    }

    String describe() {
        return "blob " + expected + " is corrupted: its bytes hash to " + actual + " (" + size + " bytes); "
                + (movedTo != null ? "moved aside to " + movedTo : "already moved aside by another reader")
                + ". It will not be served; fetch it again (kiln fetches missing items from the remote on next use)";
    }
}
