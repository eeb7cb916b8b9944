package dev.kiln.node.console;

import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.pool.ExecutionView;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Looks at the pool twice a second: records each new cold start (with its phases) in the
 * series, and tells the live pages when what they show of the executions has changed. Reading
 * the pool's views is cheap (no lock, no database), so polling costs nothing the requests feel.
 */
final class ExecutionWatcher implements AutoCloseable {
    static final long PERIOD_MILLIS = 500;

    private final ExecutionPool pool;
    private final NodeSeries series;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> recorded = new HashSet<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile long version;
    private String lastSignature = "";

    ExecutionWatcher(ExecutionPool pool, NodeSeries series) {
        this.pool = pool;
        this.series = series;
        this.thread = Thread.ofVirtual().name("kiln-console-watch").start(this::run);
    }

    /** Changes each time the executions look different. */
    long version() {
        return version;
    }

    void onChange(Runnable r) {
        listeners.add(r);
    }

    void removeListener(Runnable r) {
        listeners.remove(r);
    }

    private void run() {
        while (!closed) {
            try {
                look();
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                System.getLogger(ExecutionWatcher.class.getName()).log(System.Logger.Level.WARNING,
                        "the console's view of the executions failed", e);
            }
        }
    }

    void look() {
        List<ExecutionView> views = pool.executions();
        StringBuilder sig = new StringBuilder();
        Set<String> live = new HashSet<>();
        for (ExecutionView v : views) {
            live.add(v.id());
            sig.append(v.id()).append(':').append(v.state()).append(':').append(v.requestsServed()).append(':')
                    .append(v.inFlight()).append(';');
            if (v.bootBreakdown() != null && v.boot() != null && recorded.add(v.id())) {
                series.coldStart(new NodeSeries.ColdStart(Instant.now(), v.id(), v.program(), v.boot().toNanos() / 1e9,
                        v.bootBreakdown().resolve().toNanos() / 1e9, v.bootBreakdown().vmBoot().toNanos() / 1e9,
                        v.bootBreakdown().configure().toNanos() / 1e9));
            }
        }
        recorded.retainAll(live);
        sig.append(pool.vmsByState());
        String s = sig.toString();
        if (!s.equals(lastSignature)) {
            lastSignature = s;
            version++;
            for (Runnable r : listeners) r.run();
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
