package dev.kiln.node.pool;

import java.time.Duration;
import java.util.Objects;

/**
 * How long an execution stays SERVING without requests. On-demand programs retire after an idle
 * timeout ({@link OnDemand}). A persistent program is one more implementation of this interface
 * that never times out ({@link #idleTimeout()} null: {@link KeepWarm} arms no timer) and asks for
 * a restart after a death ({@link #restartAfter} non-null: the pool starts a new execution of the
 * program after that delay when one ends with {@link EndReason#VM_DIED} or
 * {@link EndReason#GUEST_LOST}) — a policy, not a new structure beside the state machine.
 */
public sealed interface KeepWarmPolicy {

    /** SERVING with nothing in flight for this long retires the execution ({@link EndReason#IDLE}); null: never. */
    Duration idleTimeout();

    /** The delay before starting the program again after it ended so for the {@code restarts}-th time; null: not restarted. */
    Duration restartAfter(Ending ending, int restarts);

    /** Aleph's on-demand programs: kept warm for a while after the last request, never restarted. */
    record OnDemand(Duration idleTimeout) implements KeepWarmPolicy {
        public OnDemand {
            Objects.requireNonNull(idleTimeout, "idleTimeout");
        }

        @Override
        public Duration restartAfter(Ending ending, int restarts) {
            return null;
        }
    }
}
