package dev.kiln.node.instance;

import dev.kiln.node.error.NodeException;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

/**
 * The node's memory budget as instances take from it: the same budget as programs' VMs (the
 * pool's), so an operator's instance and the on-demand programs cannot together promise the host
 * more memory than it has. Each QEMU of an instance holds its guest RAM plus the VMM's overhead
 * from its start until it ends.
 */
public interface InstanceMemory {
    /** No budget: nothing is counted (tests of the instance layer alone). */
    InstanceMemory UNLIMITED = new InstanceMemory() {
        @Override
        public long reserve(String who, long guestMiB) {
            return 0;
        }

        @Override
        public long count(long guestMiB) {
            return 0;
        }

        @Override
        public void release(long mib) {
        }
    };

    /**
     * Reserves for a QEMU about to start, making room by stopping idle program VMs if needed.
     *
     * @return what was reserved, for {@link #release}
     * @throws NodeException {@code no_capacity} when it does not fit
     */
    long reserve(String who, long guestMiB) throws NodeException, InterruptedException;

    /** Counts a QEMU that already runs (re-adopted), even past the budget; returns what was counted. */
    long count(long guestMiB);

    void release(long mib);

    /** {@link #reserve} as a function. */
    @FunctionalInterface
    interface Reserve {
        long reserve(String who, long guestMiB) throws NodeException, InterruptedException;
    }

    /** A budget of these three operations (the node passes its pool's). */
    static InstanceMemory of(Reserve reserve, LongUnaryOperator count, LongConsumer release) {
        return new InstanceMemory() {
            @Override
            public long reserve(String who, long guestMiB) throws NodeException, InterruptedException {
                return reserve.reserve(who, guestMiB);
            }

            @Override
            public long count(long guestMiB) {
                return count.applyAsLong(guestMiB);
            }

            @Override
            public void release(long mib) {
                release.accept(mib);
            }
        };
    }
}
