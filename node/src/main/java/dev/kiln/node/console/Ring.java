package dev.kiln.node.console;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * The last {@code capacity} entries written, without a lock: every forwarded request writes one,
 * so a lock here would be one node-wide lock on the request path, held by the console's readers too.
 * A reader racing writers may miss an entry being overwritten; it never blocks them.
 */
final class Ring<T> {
    private final AtomicReferenceArray<T> slots;
    private final AtomicLong written = new AtomicLong();
    private final Comparator<T> byTime;

    Ring(int capacity, Function<T, Instant> time) {
        this.slots = new AtomicReferenceArray<>(capacity);
        this.byTime = Comparator.comparing(time);
    }

    void add(T entry) {
        long i = written.getAndIncrement();
        slots.set((int) (i % slots.length()), entry);
    }

    /** How many were ever written. */
    long written() {
        return written.get();
    }

    /** The kept entries, oldest first. */
    List<T> snapshot() {
        long end = written.get();
        int n = slots.length();
        List<T> out = new ArrayList<>((int) Math.min(end, n));
        for (long i = Math.max(0, end - n); i < end; i++) {
            T t = slots.get((int) (i % n));
            if (t != null) out.add(t);
        }
        // a slot overwritten while reading holds a newer entry: time order puts it back in place
        out.sort(byTime);
        return out;
    }
}
