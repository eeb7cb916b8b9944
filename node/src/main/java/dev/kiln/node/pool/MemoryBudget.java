package dev.kiln.node.pool;

import java.util.concurrent.atomic.AtomicLong;

/** Host memory the VMs may reserve: a counter moved by compare-and-set, never a lock. */
final class MemoryBudget {
    private final long totalMiB;
    private final AtomicLong reserved = new AtomicLong();

    MemoryBudget(long totalMiB) {
        this.totalMiB = totalMiB;
    }

    boolean tryReserve(long mib) {
        while (true) {
            long now = reserved.get();
            if (now + mib > totalMiB) return false;
            if (reserved.compareAndSet(now, now + mib)) return true;
        }
    }

    /** Takes {@code mib} whether or not it fits: for what runs already. */
    void count(long mib) {
        reserved.addAndGet(mib);
    }

    void release(long mib) {
        reserved.addAndGet(-mib);
    }

    long reservedMiB() {
        return reserved.get();
    }

    long totalMiB() {
        return totalMiB;
    }
}
