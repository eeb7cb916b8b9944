package dev.kiln.node.records;

import dev.kiln.store.records.Database;
import dev.kiln.store.records.RecordsException;

import dev.kiln.core.hash.ItemHash;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One row per VM the node ran. {@link #save} only queues the row: a single background thread
 * writes them, so a boot never waits on SQLite's writer (and so on another program's boot).
 * Rows of the same VM are written in the order they were saved; the last one wins.
 */
public final class ExecutionRecords implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ExecutionRecords.class.getName());
    private static final Object STOP = new Object();

    private final Database db;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private volatile boolean closed;

    ExecutionRecords(Database db) {
        this.db = db;
        this.writer = Thread.ofVirtual().name("kiln-execution-records").start(this::drain);
    }

    /** Queues the row for writing; returns at once. */
    public void save(ExecutionRecord r) {
        if (closed) {
            LOG.log(System.Logger.Level.DEBUG, "execution record after close dropped: " + r.id());
            return;
        }
        queue.add(r);
    }

    /** Waits until everything saved so far is written (for tests and shutdown). */
    public void flush() throws InterruptedException {
        CompletableFuture<Void> marker = new CompletableFuture<>();
        queue.add(marker);
        try {
            marker.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "execution records not flushed: " + e);
        }
    }

    public List<ExecutionRecord> list(ItemHash programOrNull, int limit) throws RecordsException {
        return db.read(c -> {
            String sql = "SELECT id, program, runtime, accelerator, state, started_us, boot_us, ended_us, requests, reason"
                    + " FROM execution" + (programOrNull == null ? "" : " WHERE program = ?")
                    + " ORDER BY started_us DESC, id DESC LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (programOrNull != null) ps.setString(i++, programOrNull.value());
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<ExecutionRecord> out = new ArrayList<>();
                    while (rs.next()) {
                        long boot = rs.getLong(7);
                        Duration bootDuration = rs.wasNull() ? null : Duration.of(boot, ChronoUnit.MICROS);
                        long ended = rs.getLong(8);
                        Instant endedAt = rs.wasNull() ? null : Instant.EPOCH.plus(ended, ChronoUnit.MICROS);
                        String runtime = rs.getString(3);
                        out.add(new ExecutionRecord(rs.getString(1), ItemHash.parse(rs.getString(2)),
                                runtime == null ? null : ItemHash.parse(runtime), rs.getString(4), rs.getString(5),
                                Instant.EPOCH.plus(rs.getLong(6), ChronoUnit.MICROS), bootDuration, endedAt,
                                rs.getLong(9), rs.getString(10)));
                    }
                    return out;
                }
            }
        });
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        queue.add(STOP);
        try {
            writer.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        List<Object> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch);
            List<ExecutionRecord> rows = new ArrayList<>();
            boolean stop = false;
            List<CompletableFuture<?>> markers = new ArrayList<>();
            for (Object o : batch) {
                if (o == STOP) stop = true;
                else if (o instanceof ExecutionRecord r) rows.add(r);
                else if (o instanceof CompletableFuture<?> f) markers.add(f);
            }
            batch.clear();
            if (!rows.isEmpty()) write(rows);
            for (CompletableFuture<?> m : markers) m.complete(null);
            if (stop) return;
        }
    }

    private void write(List<ExecutionRecord> rows) {
        try {
            db.write(c -> {
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO execution (id, program, runtime, accelerator, state, started_us, boot_us, ended_us,
                                               requests, reason)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET state = excluded.state, boot_us = excluded.boot_us,
                            ended_us = excluded.ended_us, requests = excluded.requests, reason = excluded.reason,
                            runtime = excluded.runtime, accelerator = excluded.accelerator""")) {
                    for (ExecutionRecord r : rows) {
                        ps.setString(1, r.id());
                        ps.setString(2, r.program().value());
                        if (r.runtime() != null) ps.setString(3, r.runtime().value()); else ps.setNull(3, Types.VARCHAR);
                        if (r.accelerator() != null) ps.setString(4, r.accelerator()); else ps.setNull(4, Types.VARCHAR);
                        ps.setString(5, r.state());
                        ps.setLong(6, ProgramRecords.micros(r.startedAt()));
                        if (r.boot() != null) ps.setLong(7, r.boot().toNanos() / 1000); else ps.setNull(7, Types.INTEGER);
                        if (r.endedAt() != null) ps.setLong(8, ProgramRecords.micros(r.endedAt())); else ps.setNull(8, Types.INTEGER);
                        ps.setLong(9, r.requests());
                        if (r.reason() != null) ps.setString(10, r.reason()); else ps.setNull(10, Types.VARCHAR);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                return null;
            });
        } catch (RecordsException e) {
            // Records are an account of what ran, not a condition for running it.
            LOG.log(System.Logger.Level.WARNING, "could not write " + rows.size() + " execution record(s): " + e.getMessage());
        }
    }
}
