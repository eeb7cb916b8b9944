package dev.kiln.node.records;

import dev.kiln.core.hash.ItemHash;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * A PROGRAM message this node knows: published here by {@code kiln program create}, or fetched
 * from a remote the first time it was requested.
 *
 * @param messageHash the message's item hash (what {@code /vm/<hash>} names)
 * @param name        a local label ({@code sample}), or null; not part of the message
 * @param messageJson the message exactly as published or received
 */
public record ProgramRecord(ItemHash messageHash, String sender, String name, Instant recordedAt, String messageJson) {
    public ProgramRecord {
        Objects.requireNonNull(messageHash, "messageHash");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(recordedAt, "recordedAt");
        Objects.requireNonNull(messageJson, "messageJson");
        recordedAt = recordedAt.truncatedTo(ChronoUnit.MICROS);
        if (name != null && !name.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("a program name is 1-64 of a-z 0-9 . _ - (starting with a letter or"
                    + " digit), got '" + name + "'");
        }
    }
}
