package dev.kiln.node.update;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.pool.ExecutionView;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Updates on amend, aleph's update watching: a running VM whose program follows a reference with
 * {@code use_latest} is drained and stopped once that reference has a newer amend recorded on the
 * node, so the next request boots the new version. The execution ends as {@code amended} in its
 * record, with the reference and both versions, and the node logs it.
 *
 * <p>An amend posted to the node is checked at once ({@link #amended}); one recorded by
 * {@code kiln} in another process on the same home is found by the periodic check, every
 * {@code interval}. A check reads the latest amend of each followed reference of each serving VM
 * (one indexed query each) and holds no lock.
 */
public final class AmendWatch implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AmendWatch.class.getName());
    private static final int KEPT = 100;

    /** One VM drained for an amend, for /about/deliveries. */
    public record Update(ItemHash program, String execution, String field, ItemHash ref, ItemHash from, ItemHash to,
                         Instant at) {
    }

    private final ExecutionPool pool;
    private final StoreRecords store;
    private final Duration interval;
    private final AtomicBoolean checking = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();
    private final ConcurrentLinkedDeque<Update> recent = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;
    private volatile Thread ticker;

    public AmendWatch(ExecutionPool pool, StoreRecords store, Duration interval) {
        this.pool = pool;
        this.store = store;
        this.interval = interval;
    }

    /** Starts the periodic check on a virtual thread. */
    public AmendWatch start() {
        ticker = Thread.ofVirtual().name("kiln-amend-watch").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
                check();
            }
        });
        return this;
    }

    /** A STORE message was just recorded on this node: if it is an amend, check the running VMs now. */
    public void amended(StoreRecord r) {
        if (r.amends().isEmpty() || closed) return;
        Thread.ofVirtual().name("kiln-amend-check").start(this::check);
    }

    /** The VMs drained for an amend, newest first (at most the last 100). */
    public List<Update> recent() {
        return List.copyOf(recent);
    }

    /** Drains every serving VM that runs an old version of something it follows; returns how many. */
    public int check() {
        // A check asked for while one runs is not lost: the running one goes round again, so an
        // amend recorded after it passed a VM is still seen now rather than at the next tick.
        again.set(true);
        int drained = 0;
        // Re-checked after letting go: a request made between the last round and the release is served too.
        while (again.get() && checking.compareAndSet(false, true)) {
            try {
                while (again.getAndSet(false)) {
                    for (ExecutionView v : pool.executions()) {
                        Optional<Execution> running = pool.running(v.program());
                        if (running.isEmpty() || running.get().program() == null) continue;
                        if (drainIfOutdated(running.get())) drained++;
                    }
                }
            } finally {
                checking.set(false);
            }
        }
        return drained;
    }

    private boolean drainIfOutdated(Execution e) {
        for (FollowedRef f : FollowedRef.of(e.program())) {
            Optional<StoreRecord> latest;
            try {
                latest = store.resolveLatest(f.ref());
            } catch (RecordsException ex) {
                LOG.log(System.Logger.Level.WARNING, "cannot read the amends of " + f.ref() + ": " + ex.getMessage());
                continue;
            }
            if (latest.isEmpty() || latest.get().messageHash().equals(f.runningWith())) continue;
            ItemHash to = latest.get().messageHash();
            String why = f.field() + " " + f.ref() + " was amended: " + f.runningWith() + " -> " + to;
            if (pool.amended(e.programHash(), why)) {
                LOG.log(System.Logger.Level.INFO, "draining " + e.id() + " of program " + e.programHash() + ": " + why
                        + "; the next request starts the new version");
                recent.addFirst(new Update(e.programHash(), e.id(), f.field(), f.ref(), f.runningWith(), to, Instant.now()));
                while (recent.size() > KEPT) recent.pollLast();
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        closed = true;
        Thread t = ticker;
        if (t != null) t.interrupt();
    }
}
