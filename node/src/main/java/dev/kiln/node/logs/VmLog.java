package dev.kiln.node.logs;

import dev.kiln.core.hash.ItemHash;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One VM's log lines, newest last, bounded by {@link LogSettings#perVmBytes()}: when it is full
 * the oldest lines go (counted in {@link #dropped()}). Thread-safe; the store appends, readers
 * take copies.
 */
public final class VmLog {
    private final String vm;
    private final ItemHash program;
    private final Instant startedAt;
    private final long maxBytes;
    private final ArrayDeque<LogEntry> entries = new ArrayDeque<>();
    private long bytes;
    private long dropped;
    private volatile Instant endedAt;

    VmLog(String vm, ItemHash program, Instant startedAt, long maxBytes) {
        this.vm = vm;
        this.program = program;
        this.startedAt = startedAt;
        this.maxBytes = maxBytes;
    }

    public String vm() {
        return vm;
    }

    public ItemHash program() {
        return program;
    }

    public Instant startedAt() {
        return startedAt;
    }

    /** When the VM's console ended; null while it runs. */
    public Instant endedAt() {
        return endedAt;
    }

    public boolean ended() {
        return endedAt != null;
    }

    void end(Instant at) {
        endedAt = at;
    }

    /** Adds an entry; returns the bytes the log grew by (negative if it dropped more than it added). */
    synchronized long add(LogEntry e) {
        long before = bytes;
        entries.addLast(e);
        bytes += e.cost();
        while (bytes > maxBytes && entries.size() > 1) dropOldest();
        return bytes - before;
    }

    /** Drops the oldest entry; returns what that freed (0 if empty). */
    synchronized long dropOldest() {
        LogEntry e = entries.pollFirst();
        if (e == null) return 0;
        bytes -= e.cost();
        dropped++;
        return e.cost();
    }

    public synchronized long bytes() {
        return bytes;
    }

    /** Lines the agent dropped before sending (a program printing faster than the channel's budget). */
    synchronized void droppedByGuest(long lines) {
        dropped += lines;
    }

    /** Lines dropped to keep within the bounds, here or by the agent. */
    public synchronized long dropped() {
        return dropped;
    }

    /** The entries after {@code afterSeq} (0: all), of the given streams (empty: all), at most the last {@code limit}. */
    public synchronized List<LogEntry> entries(long afterSeq, java.util.Set<LogStream> streams, int limit) {
        List<LogEntry> out = new ArrayList<>();
        for (LogEntry e : entries) {
            if (e.seq() > afterSeq && (streams.isEmpty() || streams.contains(e.stream()))) out.add(e);
        }
        return out.size() <= limit ? out : List.copyOf(out.subList(out.size() - limit, out.size()));
    }
}
