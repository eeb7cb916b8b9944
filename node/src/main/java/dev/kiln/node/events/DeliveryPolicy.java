package dev.kiln.node.events;

import java.time.Duration;

/**
 * How hard the node tries to deliver one message to one program.
 *
 * @param maxAttempts   attempts per message before it is recorded as failed (at least 1)
 * @param firstBackoff  the wait after the first failed attempt; doubled after each further one
 * @param maxBackoff    the longest wait between attempts
 * @param queueCapacity messages waiting per program; beyond it a message is recorded as dropped
 *                      rather than held in memory without bound
 * @param suspendAfter  consecutive failed messages after which the program's deliveries pause
 * @param suspension    how long they pause: messages arriving meanwhile are recorded as skipped,
 *                      so a program that always fails is not booted and retried for every message
 */
public record DeliveryPolicy(int maxAttempts, Duration firstBackoff, Duration maxBackoff, int queueCapacity,
                             int suspendAfter, Duration suspension) {
    public static final DeliveryPolicy DEFAULT = new DeliveryPolicy(3, Duration.ofSeconds(1), Duration.ofSeconds(30),
            1000, 5, Duration.ofMinutes(1));

    public DeliveryPolicy {
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
        if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be at least 1");
        if (suspendAfter < 1) throw new IllegalArgumentException("suspendAfter must be at least 1");
    }

    /** The wait after failed attempt number {@code attempt} (1-based). */
    public Duration backoff(int attempt) {
        Duration d = firstBackoff;
        for (int i = 1; i < attempt && d.compareTo(maxBackoff) < 0; i++) d = d.multipliedBy(2);
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }

    public DeliveryPolicy withBackoff(Duration first, Duration max) {
        return new DeliveryPolicy(maxAttempts, first, max, queueCapacity, suspendAfter, suspension);
    }

    public DeliveryPolicy withQueueCapacity(int capacity) {
        return new DeliveryPolicy(maxAttempts, firstBackoff, maxBackoff, capacity, suspendAfter, suspension);
    }
}
