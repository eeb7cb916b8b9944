package dev.kiln.node.events.match;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.records.RecordsException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Which programs subscribe to what: an immutable snapshot of every recorded program's
 * {@code on.message}, swapped in whole when the program records change. Matching reads the current
 * snapshot without any lock, so messages for different programs never wait for each other or for a
 * rebuild; a rebuild runs on one thread at a time and the others keep the previous snapshot.
 *
 * <p>Programs are recorded by this node (a PROGRAM message posted to it) or by {@code kiln program
 * create} in another process, which the node is not told of; so besides the rebuild on a post, a
 * message arriving later than {@code maxAge} after the last rebuild rebuilds first.
 */
public final class SubscriptionIndex {
    private static final System.Logger LOG = System.getLogger(SubscriptionIndex.class.getName());

    /** One subscribing program. */
    public record Entry(ItemHash program, List<Subscription> subscriptions) {
        public Entry {
            subscriptions = List.copyOf(subscriptions);
        }

        boolean matches(JsonNode message) {
            for (Subscription s : subscriptions) if (s.matches(message)) return true;
            return false;
        }
    }

    private record Snapshot(List<Entry> entries, long builtNanos) {
    }

    private final ProgramRecords programs;
    private final Duration maxAge;
    private final AtomicReference<Snapshot> current = new AtomicReference<>(new Snapshot(List.of(), 0));
    /** Taken by rebuilds only, never by matching. */
    private final ReentrantLock rebuilding = new ReentrantLock();
    /** Parsed once per program: a message hash fixes its content. Empty list: it subscribes to nothing. */
    private final Map<ItemHash, List<Subscription>> parsed = new ConcurrentHashMap<>();

    public SubscriptionIndex(ProgramRecords programs, Duration maxAge) {
        this.programs = programs;
        this.maxAge = maxAge;
    }

    /** The programs {@code message} triggers, in the order they were recorded. */
    public List<ItemHash> matching(JsonNode message) {
        Snapshot s = current.get();
        if (System.nanoTime() - s.builtNanos() > maxAge.toNanos()) {
            rebuild();
            s = current.get();
        }
        List<ItemHash> out = new ArrayList<>();
        for (Entry e : s.entries()) if (e.matches(message)) out.add(e.program());
        return out;
    }

    /** Every subscribing program now (for /about and tests). */
    public List<Entry> entries() {
        return current.get().entries();
    }

    /**
     * Reads the program records again and swaps the snapshot, unless another thread is doing so:
     * then this returns at once and matching goes on with the previous snapshot.
     */
    public void rebuild() {
        if (!rebuilding.tryLock()) return;
        try {
            build();
        } finally {
            rebuilding.unlock();
        }
    }

    /** A rebuild that includes everything recorded before the call (waits for one in progress, then runs its own). */
    public void rebuildNow() {
        rebuilding.lock();
        try {
            build();
        } finally {
            rebuilding.unlock();
        }
    }

    private void build() {
        long started = System.nanoTime();
        try {
            List<Entry> entries = new ArrayList<>();
            for (ProgramRecord r : programs.list()) {
                List<Subscription> subs = parsed.computeIfAbsent(r.messageHash(), h -> subscriptionsOf(r));
                if (!subs.isEmpty()) entries.add(new Entry(r.messageHash(), subs));
            }
            current.set(new Snapshot(List.copyOf(entries), started));
        } catch (RecordsException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read the program records to match messages (keeping the previous"
                    + " subscriptions): " + e.getMessage());
        }
    }

    private static List<Subscription> subscriptionsOf(ProgramRecord r) {
        ProgramContent p;
        try {
            p = AlephMessages.parse(r.messageJson()).contentAs(ProgramContent.class);
        } catch (RuntimeException unreadable) {
            return List.of(); // its requests get the resolver's error; it subscribes to nothing
        }
        if (p.on() == null) return List.of();
        List<Subscription> out = new ArrayList<>();
        List<JsonNode> filters = p.on().subscriptions();
        for (int i = 0; i < filters.size(); i++) {
            List<String> problems = Subscription.problems(filters.get(i), "content.on.message[" + i + "]");
            if (!problems.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "program " + r.messageHash() + " is not triggered by messages: "
                        + problems.getFirst());
                return List.of();
            }
            out.add(new Subscription(filters.get(i)));
        }
        return out;
    }
}
