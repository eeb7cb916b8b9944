package dev.kiln.node.pool;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The keep-warm clock: the idle timeout of {@link KeepWarmPolicy} as a timeout of the SERVING
 * phase. One timer per execution re-arms itself for the time left instead of being rescheduled
 * by every request; when it finds the execution idle for the whole timeout it retires it
 * ({@link EndReason#IDLE}) and the pool halts the VM.
 */
final class KeepWarm implements AutoCloseable {
    private final ScheduledThreadPoolExecutor timer;

    KeepWarm() {
        timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon().name("kiln-keep-warm").unstarted(r));
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Starts the clock of an execution that has just started serving; nothing for a policy without idle timeout. */
    void arm(Execution e) {
        Duration idle = e.keepWarm().idleTimeout();
        if (idle != null) schedule(e, idle);
    }

    private void schedule(Execution e, Duration delay) {
        try {
            timer.schedule(() -> check(e), Math.max(1, delay.toMillis()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            // the pool is closing; it stops every VM itself
        }
    }

    /** Runs on the timer thread: cheap checks only; the stop itself runs elsewhere. */
    private void check(Execution e) {
        if (e.phase() != Phase.SERVING) return;
        Duration idle = e.keepWarm().idleTimeout();
        long remaining = idle.toNanos() - (System.nanoTime() - e.lastActiveNanos());
        if (e.inFlight() == 0 && remaining <= 0 && e.retireIfIdle(EndReason.IDLE, "idle for " + idle.toSeconds() + " s")) {
            return;
        }
        schedule(e, e.inFlight() > 0 ? idle : Duration.ofNanos(Math.max(remaining, 1_000_000)));
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
