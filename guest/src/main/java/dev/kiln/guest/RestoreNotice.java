package dev.kiln.guest;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the host tells the agent of a VM restored from a snapshot (docs/guest-protocol.md §9): every
 * copy starts with the same memory, so each gets its own randomness, the time, its own hostname
 * when it has one, and a networked copy its own network configuration (it runs on another TAP with
 * another address and MAC than the VM that was saved).
 *
 * @param generation counts the copies made of one snapshot by this host (1 for the first)
 * @param entropy    fresh host randomness, 32–512 bytes, credited to the guest's kernel pool
 * @param hostTime   the host's wall clock, which the guest's clock is set to
 * @param hostname   the copy's hostname, or null to keep the saved one
 * @param network    the copy's network (address, gateway, resolvers, IPv6), or null: no NIC
 * @param mac        the MAC of the copy's NIC (with {@code network}), e.g. {@code 02:4b:4c:00:00:05}
 */
public record RestoreNotice(long generation, byte[] entropy, Instant hostTime, String hostname,
                            ProgramConfig.Network network, String mac) {
    private static final Pattern MAC = Pattern.compile("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$");

    public RestoreNotice {
        if (generation < 1) throw new IllegalArgumentException("generation must be positive");
        Objects.requireNonNull(entropy, "entropy");
        if (entropy.length < 32 || entropy.length > 512) throw new IllegalArgumentException("entropy must be 32-512 bytes");
        entropy = entropy.clone();
        Objects.requireNonNull(hostTime, "hostTime");
        if ((network == null) != (mac == null)) throw new IllegalArgumentException("a network needs a MAC, and a MAC a network");
        if (mac != null && !MAC.matcher(mac).matches()) throw new IllegalArgumentException("bad MAC: " + mac);
    }

    /** A copy without a NIC. */
    public RestoreNotice(long generation, byte[] entropy, Instant hostTime, String hostname) {
        this(generation, entropy, hostTime, hostname, null, null);
    }
}
