package dev.kiln.guest;

import java.time.Instant;
import java.util.Objects;

/**
 * What the host tells the agent of a VM restored from a snapshot (docs/guest-protocol.md §9): every
 * copy starts with the same memory, so each gets its own randomness, the time, and its own hostname
 * if it differs from the saved one's.
 *
 * @param generation counts the copies made of one snapshot by this host (1 for the first)
 * @param entropy    fresh host randomness, 32–512 bytes, credited to the guest's kernel pool
 * @param hostTime   the host's wall clock, which the guest's clock is set to
 * @param hostname   the copy's hostname, or null to keep the saved one
 */
public record RestoreNotice(long generation, byte[] entropy, Instant hostTime, String hostname) {
    public RestoreNotice {
        if (generation < 1) throw new IllegalArgumentException("generation must be positive");
        Objects.requireNonNull(entropy, "entropy");
        if (entropy.length < 32 || entropy.length > 512) throw new IllegalArgumentException("entropy must be 32-512 bytes");
        entropy = entropy.clone();
        Objects.requireNonNull(hostTime, "hostTime");
    }
}
