package dev.kiln.node.persistent;

import java.time.Duration;
import java.util.Objects;

/**
 * How a persistent program is brought back after its VM dies: after {@code firstDelay}, doubling
 * with each failure up to {@code maxDelay}; {@code maxFailures} failures within {@code window}
 * mean the program cannot run here and it is left {@code failed} instead of boot-looping on a
 * shared host.
 */
public record RestartPolicy(Duration firstDelay, Duration maxDelay, int maxFailures, Duration window) {
    /** 1 s, 2 s, 4 s … at most 60 s; five failures in ten minutes give up. */
    public static final RestartPolicy DEFAULT = new RestartPolicy(Duration.ofSeconds(1), Duration.ofSeconds(60), 5,
            Duration.ofMinutes(10));

    public RestartPolicy {
        Objects.requireNonNull(firstDelay, "firstDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(window, "window");
        if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0) {
            throw new IllegalArgumentException("restart delays must satisfy 0 ≤ first ≤ max, got " + firstDelay + ", " + maxDelay);
        }
        if (maxFailures < 1) throw new IllegalArgumentException("at least one failure must be allowed, got " + maxFailures);
    }

    /** The wait before the attempt that follows the {@code failures}-th recent failure (1 = the first). */
    public Duration delay(int failures) {
        Duration d = firstDelay;
        for (int i = 1; i < failures && d.compareTo(maxDelay) < 0; i++) d = d.multipliedBy(2);
        return d.compareTo(maxDelay) > 0 ? maxDelay : d;
    }
}
