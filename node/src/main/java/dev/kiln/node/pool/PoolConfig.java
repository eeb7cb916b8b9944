package dev.kiln.node.pool;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The execution pool's knobs (docs/node.md lists them with their defaults).
 *
 * @param idleTimeout    how long a VM stays warm after its last request (the node's keep-warm)
 * @param memoryBudgetMiB host memory the VMs may reserve in total
 * @param vmmOverheadMiB what each VM costs beyond its guest RAM (QEMU itself, its code cache)
 * @param stopGrace      how long a stopping program gets to finish (ASGI shutdown, SIGTERM)
 * @param vmsDir         where each VM gets its work directory (sockets, console log)
 * @param maxConcurrentBoots cold starts past admission at once (launch + configure); the rest queue
 * @param bootQueueWait  how long a cold start may wait for one of those before {@code 503 no_capacity}
 */
public record PoolConfig(Duration idleTimeout, long memoryBudgetMiB, long vmmOverheadMiB, Duration stopGrace,
                         Path vmsDir, int maxConcurrentBoots, Duration bootQueueWait) {
    public PoolConfig {
        Objects.requireNonNull(bootQueueWait, "bootQueueWait");
        if (maxConcurrentBoots < 1) throw new IllegalArgumentException("at least one boot at a time, got " + maxConcurrentBoots);
        Objects.requireNonNull(stopGrace, "stopGrace");
        Objects.requireNonNull(vmsDir, "vmsDir");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the idle timeout must be positive, got " + idleTimeout);
        }
        if (memoryBudgetMiB < 64) throw new IllegalArgumentException("the memory budget must be at least 64 MiB");
        if (vmmOverheadMiB < 0) throw new IllegalArgumentException("the VMM overhead cannot be negative");
    }
}
