package dev.kiln.store.remote;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bounded exponential backoff for transient remote failures: attempt n waits about
 * {@code initialDelay × 2^(n-1)}, capped at {@code maxDelay}, with jitter so that many clients
 * failing together do not come back together. A server's Retry-After is honoured up to the cap.
 *
 * @param maxAttempts total attempts including the first (1 = never retry)
 */
public record RetryPolicy(int maxAttempts, Duration initialDelay, Duration maxDelay) {

    /** Five attempts over about 7.5 s at most: enough for a restarting API node, short enough to report. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(10));

    public RetryPolicy {
        Objects.requireNonNull(initialDelay, "initialDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
        if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("need 0 <= initialDelay <= maxDelay");
        }
    }

    /** The wait after failed attempt number {@code failedAttempt} (1-based). */
    public Duration delayAfter(int failedAttempt, Duration retryAfter) {
        if (retryAfter != null && !retryAfter.isNegative()) {
            return retryAfter.compareTo(maxDelay) > 0 ? maxDelay : retryAfter;
        }
        long base = initialDelay.toNanos();
        for (int i = 1; i < failedAttempt && base < maxDelay.toNanos(); i++) base *= 2;
        base = Math.min(base, maxDelay.toNanos());
        // "Equal jitter": at least half the backoff, so retries never bunch up near zero.
        long half = base / 2;
        return Duration.ofNanos(half + (half > 0 ? ThreadLocalRandom.current().nextLong(half + 1) : 0));
    }
}
