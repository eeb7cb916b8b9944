package dev.kiln.node.console;

import dev.kiln.node.logs.LogEntry;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.logs.VmLog;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A live log over SSE without gaps or repeats: it starts following the store first, then sends
 * what was kept (after the client's {@code Last-Event-ID}), then what followed, skipping what it
 * already sent. New lines are sent in batches as they come; a client that reads too slowly loses
 * lines (it is told how many) rather than making the VM's console wait.
 */
final class LogFeed {
    private static final int QUEUE = 20_000;
    private static final long HEARTBEAT_NANOS = 15_000_000_000L;

    /** How one batch of entries goes out: event name and data. */
    interface Format {
        void send(SseStream sse, List<LogEntry> batch) throws IOException;
    }

    private LogFeed() {
    }

    /**
     * @param logs    the VM logs this feed covers (read once for the backlog)
     * @param belongs whether a new entry belongs to the feed
     * @param over    true when the feed is complete (a VM's log that ended) or the node stops
     */
    static void run(LogStore store, Function<LogStore, List<VmLog>> logs, Predicate<LogEntry> belongs, long afterSeq,
                    SseStream sse, Format format, BooleanSupplier over) throws IOException {
        LinkedBlockingQueue<LogEntry> queue = new LinkedBlockingQueue<>(QUEUE);
        long[] lost = {0};
        Closeable following = store.follow(belongs, e -> {
            if (!queue.offer(e)) lost[0]++;
        });
        try {
            List<LogEntry> backlog = new ArrayList<>();
            for (VmLog l : logs.apply(store)) backlog.addAll(l.entries(afterSeq, java.util.Set.of(), Integer.MAX_VALUE));
            backlog.sort(Comparator.comparingLong(LogEntry::seq));
            long sent = afterSeq;
            if (!backlog.isEmpty()) {
                format.send(sse, backlog);
                sent = backlog.getLast().seq();
            } else {
                sse.heartbeat();
            }
            long lastWrite = System.nanoTime();
            while (true) {
                LogEntry first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    if (over.getAsBoolean() && queue.isEmpty()) return;
                    if (System.nanoTime() - lastWrite > HEARTBEAT_NANOS) {
                        sse.heartbeat();
                        lastWrite = System.nanoTime();
                    }
                    continue;
                }
                List<LogEntry> batch = new ArrayList<>();
                batch.add(first);
                queue.drainTo(batch, 2000);
                long from = sent;
                batch.removeIf(e -> e.seq() <= from);
                if (lost[0] > 0) {
                    batch.addFirst(new LogEntry(from, java.time.Instant.now(), first.vm(), dev.kiln.node.logs.LogStream.NODE,
                            "[kiln: " + lost[0] + " lines skipped: this client read too slowly]"));
                    lost[0] = 0;
                }
                if (batch.isEmpty()) continue;
                format.send(sse, batch);
                sent = batch.getLast().seq();
                lastWrite = System.nanoTime();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            following.close();
        }
    }
}
