package dev.kiln.node.guestapi;

import java.time.Duration;

/**
 * Bounds of one program's cache (docs/guest-api.md): keys are aleph's ({@code ^\w+$}) and at most
 * {@code maxKeyLength} long; values at most {@code maxValueBytes}; at most {@code maxKeys} keys and
 * {@code maxBytes} in all per program (the embedded store also holds at most {@code maxTotalBytes}
 * for every program together); each entry lives {@code expiry} after its last write (aleph: 7 days).
 */
public record CacheLimits(int maxKeyLength, int maxValueBytes, int maxKeys, long maxBytes, long maxTotalBytes,
                          Duration expiry) {
    public static final CacheLimits DEFAULTS = new CacheLimits(256, 512 * 1024, 1000, 16L << 20, 256L << 20,
            Duration.ofDays(7));

    public CacheLimits {
        if (maxKeyLength < 1 || maxValueBytes < 1 || maxKeys < 1 || maxBytes < 1 || maxTotalBytes < 1) {
            throw new IllegalArgumentException("cache limits must be positive");
        }
        if (expiry == null || expiry.toSeconds() < 1) throw new IllegalArgumentException("cache expiry must be at least 1 s");
    }

    public CacheLimits withExpiry(Duration d) {
        return new CacheLimits(maxKeyLength, maxValueBytes, maxKeys, maxBytes, maxTotalBytes, d);
    }

    public CacheLimits withMaxKeys(int n) {
        return new CacheLimits(maxKeyLength, maxValueBytes, n, maxBytes, maxTotalBytes, expiry);
    }
}
