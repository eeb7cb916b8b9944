package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.persistent.RestartHistory;
import dev.kiln.node.persistent.RestartPolicy;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The persistent programs the node keeps running, and the clock of their restarts: when one's
 * execution ends in a way its {@link KeepWarmPolicy} restarts, the next start is scheduled after
 * the backoff of its {@link RestartHistory}, or the program is left FAILED. Starting is the
 * pool's ordinary start of a new execution, so there is never a second execution beside a live one.
 */
final class Restarts implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Restarts.class.getName());

    private final ConcurrentHashMap<ItemHash, RestartHistory> kept = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor timer;
    private final Consumer<ItemHash> start;

    /** @param start starts an execution of the program unless one is live (never blocks) */
    Restarts(Consumer<ItemHash> start) {
        this.start = start;
        timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon().name("kiln-restarts").unstarted(r));
        timer.setRemoveOnCancelPolicy(true);
    }

    /** From now on the program runs until {@link #forget}; true if it was not kept already. */
    boolean keep(ItemHash program) {
        return kept.putIfAbsent(program, new RestartHistory(RestartPolicy.DEFAULT)) == null;
    }

    boolean forget(ItemHash program) {
        return kept.remove(program) != null;
    }

    boolean kept(ItemHash program) {
        return kept.containsKey(program);
    }

    /** An execution of the program is serving. */
    void serving(ItemHash program) {
        RestartHistory h = kept.get(program);
        if (h != null) h.running();
    }

    /** An execution ended; schedules its successor if the program is kept and the ending calls for one. */
    void ended(Execution e, Ending ending, boolean closing) {
        RestartHistory h = kept.get(e.programHash());
        if (h == null || closing) return;
        KeepWarmPolicy policy = e.keepWarm();
        // A start that failed before resolving has no policy yet; the program is kept, so it is persistent.
        boolean restart = policy == null ? !ending.reason().graceful() : policy.restartsAfter(ending);
        if (!restart) return;
        RestartHistory.Decision d = h.failed(Instant.now(), ending.text());
        if (d.gaveUp()) {
            LOG.log(System.Logger.Level.ERROR, "persistent program " + e.programHash() + " failed " + d.recentFailures()
                    + " times recently (last: " + ending.text() + "); it is left failed until it is allocated again");
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "persistent program " + e.programHash() + " ended (" + ending.text()
                + "); restarting in " + d.delay().toMillis() + " ms");
        // The delay counts from the old VMM's exit: its successor never runs beside it.
        e.gone().whenComplete((ok, x) -> schedule(e.programHash(), h, d));
    }

    private void schedule(ItemHash program, RestartHistory h, RestartHistory.Decision d) {
        try {
            timer.schedule(() -> {
                if (kept.get(program) == h) start.accept(program);
            }, d.delay().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            // the pool is closing
        }
    }

    Optional<RestartHistory.View> view(ItemHash program) {
        return Optional.ofNullable(kept.get(program)).map(RestartHistory::view);
    }

    /** Every kept program and where it stands, ordered by hash. */
    Map<ItemHash, RestartHistory.View> views() {
        Map<ItemHash, RestartHistory.View> m = new TreeMap<>(java.util.Comparator.comparing(ItemHash::toString));
        kept.forEach((k, v) -> m.put(k, v.view()));
        return m;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
