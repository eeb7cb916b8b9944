package dev.kiln.node.records;

import dev.kiln.store.records.Database;
import dev.kiln.store.records.RecordsException;

import dev.kiln.core.hash.ItemHash;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One row per VM the node ran. {@link #save} only queues the row: a single background thread
 * writes them, so a boot never waits on SQLite's writer (and so on another program's boot).
 * Rows of the same VM are written in the order they were saved; the last one wins. Each node
 * start takes a number first ({@link #beginNodeStart}), which makes execution ids unique across
 * restarts and lets the start close the rows a crashed node left open.
 */
public final class ExecutionRecords implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ExecutionRecords.class.getName());
    private static final Object STOP = new Object();

    private final Database db;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    /** Rows left open by a node that is gone end with this. */
    public static final String UNCLEAN_STOP = "node_stopped_uncleanly";

    private volatile boolean closed;
    private volatile Long nodeStart;

    ExecutionRecords(Database db) {
        this.db = db;
        this.writer = Thread.ofVirtual().name("kiln-execution-records").start(this::drain);
    }

    /**
     * Records a new start of the node and returns its number (1, 2, …), after closing the rows
     * that node starts whose process is gone left without an end (state FAILED, ended now,
     * {@code ended_by} {@value #UNCLEAN_STOP}). If the database cannot be written, the number
     * is taken from the clock instead (still unique, far above the database's).
     */
    public long beginNodeStart() {
        ProcessHandle self = ProcessHandle.current();
        try {
            long n = db.write(c -> {
                closeOrphans(c, Instant.now());
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO node_start (pid, process_start_us, started_us) VALUES (?, ?, ?)",
                        Statement.RETURN_GENERATED_KEYS)) {
                    ps.setLong(1, self.pid());
                    Long processStart = processStartMicros(self);
                    if (processStart != null) ps.setLong(2, processStart); else ps.setNull(2, Types.INTEGER);
                    ps.setLong(3, ProgramRecords.micros(Instant.now()));
                    ps.executeUpdate();
                    try (ResultSet keys = ps.getGeneratedKeys()) {
                        keys.next();
                        return keys.getLong(1);
                    }
                }
            });
            nodeStart = n;
            return n;
        } catch (RecordsException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot record the node's start (" + e.getMessage()
                    + "); execution ids take their start number from the clock");
            return System.currentTimeMillis();
        }
    }

    /** Closes open rows of node starts that no running process holds (and rows from before node starts were counted). */
    private static int closeOrphans(Connection c, Instant now) throws SQLException {
        List<Long> gone = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT DISTINCT e.node_start, s.pid, s.process_start_us FROM execution e
                LEFT JOIN node_start s ON s.id = e.node_start WHERE e.ended_us IS NULL""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long start = rs.getLong(1);
                if (rs.wasNull()) {
                    gone.add(null);
                    continue;
                }
                long pid = rs.getLong(2);
                boolean known = !rs.wasNull();
                long processStart = rs.getLong(3);
                Long recorded = rs.wasNull() ? null : processStart;
                if (!known || !alive(pid, recorded)) gone.add(start);
            }
        }
        int closed = 0;
        for (Long start : gone) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE execution SET state = 'FAILED', ended_us = ?,"
                    + " reason = 'node stopped uncleanly (found open at the next start)', ended_by = ?"
                    + " WHERE ended_us IS NULL AND " + (start == null ? "node_start IS NULL" : "node_start = ?"))) {
                ps.setLong(1, ProgramRecords.micros(now));
                ps.setString(2, UNCLEAN_STOP);
                if (start != null) ps.setLong(3, start);
                closed += ps.executeUpdate();
            }
        }
        if (closed > 0) LOG.log(System.Logger.Level.INFO, "closed " + closed + " execution record(s) a stopped node left open");
        return closed;
    }

    /**
     * The pid of the node process that made execution {@code executionId} (ids name their node
     * start: {@code <program>-<node start>-<n>}) if it is another process and still runs: a node
     * must not take over a VM that another live node on the same home drives. Empty if it is this
     * process, gone, or unknown.
     */
    public java.util.OptionalLong otherLiveNode(String executionId) throws RecordsException {
        String[] parts = executionId.split("-");
        long start;
        try {
            start = parts.length == 3 ? Long.parseLong(parts[1]) : -1;
        } catch (NumberFormatException e) {
            start = -1;
        }
        if (start < 0) return java.util.OptionalLong.empty();
        long id = start;
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pid, process_start_us FROM node_start WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return java.util.OptionalLong.empty();
                    long pid = rs.getLong(1);
                    long recorded = rs.getLong(2);
                    Long processStart = rs.wasNull() ? null : recorded;
                    if (pid == ProcessHandle.current().pid() || !alive(pid, processStart)) return java.util.OptionalLong.empty();
                    return java.util.OptionalLong.of(pid);
                }
            }
        });
    }

    /** The same process (not a later one given the same pid) is still running. */
    private static boolean alive(long pid, Long processStartMicros) {
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) return false;
        Long now = processStartMicros(p.get());
        return processStartMicros == null || now == null || now.equals(processStartMicros);
    }

    private static Long processStartMicros(ProcessHandle p) {
        return p.info().startInstant().map(ProgramRecords::micros).orElse(null);
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
            String sql = "SELECT id, program, runtime, accelerator, state, started_us, boot_us, ended_us, requests, reason,"
                    + " ended_by, start, resolve_us, vm_us, configure_us"
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
                                rs.getLong(9), rs.getString(10), rs.getString(11), rs.getString(12), phases(rs)));
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
                                               requests, reason, ended_by, node_start, start, resolve_us, vm_us,
                                               configure_us)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET state = excluded.state, boot_us = excluded.boot_us,
                            ended_us = excluded.ended_us, requests = excluded.requests, reason = excluded.reason,
                            ended_by = excluded.ended_by, runtime = excluded.runtime, accelerator = excluded.accelerator,
                            start = excluded.start, resolve_us = excluded.resolve_us, vm_us = excluded.vm_us,
                            configure_us = excluded.configure_us""")) {
                    Long start = nodeStart;
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
                        if (r.endedBy() != null) ps.setString(11, r.endedBy()); else ps.setNull(11, Types.VARCHAR);
                        if (start != null) ps.setLong(12, start); else ps.setNull(12, Types.INTEGER);
                        if (r.start() != null) ps.setString(13, r.start()); else ps.setNull(13, Types.VARCHAR);
                        ExecutionRecord.Phases p = r.phases();
                        micros(ps, 14, p == null ? null : p.resolve());
                        micros(ps, 15, p == null ? null : p.vm());
                        micros(ps, 16, p == null ? null : p.configure());
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

    private static void micros(PreparedStatement ps, int column, Duration d) throws java.sql.SQLException {
        if (d != null) ps.setLong(column, d.toNanos() / 1000); else ps.setNull(column, Types.INTEGER);
    }

    private static ExecutionRecord.Phases phases(ResultSet rs) throws java.sql.SQLException {
        long resolve = rs.getLong(13);
        if (rs.wasNull()) return null;
        return new ExecutionRecord.Phases(Duration.of(resolve, ChronoUnit.MICROS), Duration.of(rs.getLong(14), ChronoUnit.MICROS),
                Duration.of(rs.getLong(15), ChronoUnit.MICROS));
    }
}
