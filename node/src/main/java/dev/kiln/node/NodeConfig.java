package dev.kiln.node;

import dev.kiln.node.logs.LogSettings;
import dev.kiln.node.snapshot.SnapshotSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The node's knobs; {@link #defaults} gives the values docs/node.md documents.
 *
 * @param host            address to listen on (default 127.0.0.1: put a reverse proxy in front
 *                        for the world, as aleph nodes do with Caddy)
 * @param port            HTTP port (default 4020; 0 picks a free one)
 * @param kernel          the guest kernel (an uncompressed vmlinux)
 * @param idleTimeout     keep-warm: how long a VM stays up after its last request (default
 *                        {@link #DEFAULT_KEEP_WARM}; null means that default). The node's setting,
 *                        not the message's: {@code resources.seconds} is aleph's per-request timeout
 * @param memoryBudgetMiB memory all VMs together may reserve (default: 75 % of the host's RAM)
 * @param vmmOverheadMiB  what one VM costs beyond its guest RAM (default 64 MiB)
 * @param bootTimeout     how long a VM may take to say hello (default 30 s)
 * @param stopGrace       how long a stopping program gets for its shutdown (default 2 s)
 * @param maxConcurrentBoots VMs that may boot at once (default: the host's cores); more cold
 *                        starts wait in a fair queue
 * @param bootQueueWait   how long a cold start may wait in that queue before {@code 503 no_capacity}
 *                        (default 60 s)
 * @param logs            the bounds of the VMs' logs (default 1 MiB per VM, 64 MiB in all, 200 ended VMs)
 * @param snapshots       snapshot cold starts: on, a 4 GiB cap, no program opted out (docs/snapshots.md)
 */
public record NodeConfig(String host, int port, Path kernel, Duration idleTimeout, long memoryBudgetMiB,
                         long vmmOverheadMiB, Duration bootTimeout, Duration stopGrace, int maxConcurrentBoots,
                         Duration bootQueueWait, LogSettings logs, SnapshotSettings snapshots) {
    public static final int DEFAULT_PORT = 4020;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final long DEFAULT_VMM_OVERHEAD_MIB = 64;
    public static final Duration DEFAULT_BOOT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(2);
    public static final Duration DEFAULT_BOOT_QUEUE_WAIT = Duration.ofSeconds(60);
    /**
     * Ten minutes: idle VMs are the first evicted (least recently used) when a start needs their
     * memory, so a long keep-warm costs nothing while the budget has room, and a program called
     * every few minutes skips the cold start. aleph's 3600 s suits KVM hosts with more memory.
     */
    public static final Duration DEFAULT_KEEP_WARM = Duration.ofMinutes(10);

    public NodeConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(bootTimeout, "bootTimeout");
        Objects.requireNonNull(stopGrace, "stopGrace");
        Objects.requireNonNull(bootQueueWait, "bootQueueWait");
        idleTimeout = idleTimeout == null ? DEFAULT_KEEP_WARM : idleTimeout;
        logs = logs == null ? LogSettings.defaults() : logs;
        snapshots = snapshots == null ? SnapshotSettings.defaults() : snapshots;
        if (maxConcurrentBoots < 1) {
            throw new IllegalArgumentException("maxConcurrentBoots must be at least 1, got " + maxConcurrentBoots);
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0-65535, got " + port);
    }

    public static NodeConfig defaults(Path kernel) {
        return new NodeConfig(DEFAULT_HOST, DEFAULT_PORT, kernel, DEFAULT_KEEP_WARM, defaultMemoryBudgetMiB(),
                DEFAULT_VMM_OVERHEAD_MIB, DEFAULT_BOOT_TIMEOUT, DEFAULT_STOP_GRACE, defaultMaxConcurrentBoots(),
                DEFAULT_BOOT_QUEUE_WAIT, LogSettings.defaults(), SnapshotSettings.defaults());
    }

    public NodeConfig withHost(String h) {
        return new NodeConfig(h, port, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, bootQueueWait, logs, snapshots);
    }

    public NodeConfig withPort(int p) {
        return new NodeConfig(host, p, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, bootQueueWait, logs, snapshots);
    }

    public NodeConfig withIdleTimeout(Duration d) {
        return new NodeConfig(host, port, kernel, d, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, bootQueueWait, logs, snapshots);
    }

    public NodeConfig withMemoryBudgetMiB(long m) {
        return new NodeConfig(host, port, kernel, idleTimeout, m, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, bootQueueWait, logs, snapshots);
    }

    public NodeConfig withStopGrace(Duration d) {
        return new NodeConfig(host, port, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, d,
                maxConcurrentBoots, bootQueueWait, logs, snapshots);
    }

    public NodeConfig withMaxConcurrentBoots(int n) {
        return new NodeConfig(host, port, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace, n,
                bootQueueWait, logs, snapshots);
    }

    public NodeConfig withBootQueueWait(Duration d) {
        return new NodeConfig(host, port, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, d, logs, snapshots);
    }

    public NodeConfig withLogs(LogSettings l) {
        return new NodeConfig(host, port, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, bootQueueWait, l, snapshots);
    }

    public NodeConfig withSnapshots(SnapshotSettings s) {
        return new NodeConfig(host, port, kernel, idleTimeout, memoryBudgetMiB, vmmOverheadMiB, bootTimeout, stopGrace,
                maxConcurrentBoots, bootQueueWait, logs, s);
    }

    /**
     * One boot per core: under TCG a booting guest keeps a core busy (kernel, init, the program's
     * imports), so more boots at once only make every one of them slower.
     */
    public static int defaultMaxConcurrentBoots() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** 75 % of MemTotal from /proc/meminfo; 4 GiB where that cannot be read. */
    public static long defaultMemoryBudgetMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return Math.max(256, kib / 1024 * 3 / 4);
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux, or an unusual /proc: fall through
        }
        return 4096;
    }
}
