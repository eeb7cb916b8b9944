package dev.kiln.node.pool;

import dev.kiln.node.persistent.RestartPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * How long an execution stays SERVING without requests, and what follows its end. On-demand
 * programs retire after an idle timeout ({@link OnDemand}) and are started again by the next
 * request. A persistent program ({@link Persistent}) never times out ({@link #idleTimeout()}
 * null: {@link KeepWarm} arms no timer), is never evicted for room, and is started again by the
 * pool after a death, with the backoff of its {@link RestartPolicy} — a policy of the one state
 * machine, not a structure beside it.
 */
public sealed interface KeepWarmPolicy {

    /** SERVING with nothing in flight for this long retires the execution ({@link EndReason#IDLE}); null: never. */
    Duration idleTimeout();

    /** True if an execution that ended so is followed by a new one without waiting for a request. */
    boolean restartsAfter(Ending ending);

    /** True if admission may stop it while idle to make room for another program. */
    default boolean evictable() {
        return idleTimeout() != null;
    }

    /** Aleph's on-demand programs: kept warm for a while after the last request, never restarted. */
    record OnDemand(Duration idleTimeout) implements KeepWarmPolicy {
        public OnDemand {
            Objects.requireNonNull(idleTimeout, "idleTimeout");
        }

        @Override
        public boolean restartsAfter(Ending ending) {
            return false;
        }
    }

    /**
     * {@code on.persistent}: running from allocation to deallocation. Only ends the VM did not ask
     * for restart it (death, lost guest, wedge, failed start); an operator's stop, a deallocation
     * or the node's shutdown do not.
     */
    record Persistent(RestartPolicy restart) implements KeepWarmPolicy {
        public Persistent {
            Objects.requireNonNull(restart, "restart");
        }

        @Override
        public Duration idleTimeout() {
            return null;
        }

        @Override
        public boolean restartsAfter(Ending ending) {
            return !ending.reason().graceful();
        }
    }
}
