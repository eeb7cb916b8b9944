package dev.kiln.node.records;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;

/**
 * The node's SQLite file ({@code <home>/db/node.db}) in WAL mode, with the store's conventions:
 * one writer connection used by one thread at a time, a few read-only connections that read the
 * WAL snapshot concurrently, schema steps applied by {@code PRAGMA user_version}. The request path
 * only ever reads (program lookups on a cold start); execution records are written from one
 * background thread ({@link ExecutionRecords}), so no request waits on the writer.
 */
final class NodeDatabase implements AutoCloseable {

    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** One schema step; never edited once released. */
    record Migration(int version, List<String> statements) {
    }

    private static final Duration BUSY_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POOL_WAIT = Duration.ofSeconds(30);

    private final Path file;
    private final Connection writer;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Semaphore readPermits;
    private final ConcurrentLinkedQueue<Connection> idleReaders = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    private NodeDatabase(Path file, int readers) throws NodeRecordsException {
        this.file = file;
        this.readPermits = new Semaphore(readers);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            this.writer = connect(false);
        } catch (IOException | SQLException e) {
            throw new NodeRecordsException("cannot open the node database " + file + ": " + e.getMessage()
                    + "; check that the Kiln home is writable", e);
        }
    }

    static NodeDatabase open(Path file, List<Migration> migrations, int readers) throws NodeRecordsException {
        NodeDatabase db = new NodeDatabase(file, readers);
        try {
            db.migrate(migrations);
            return db;
        } catch (NodeRecordsException | RuntimeException e) {
            db.close();
            throw e;
        }
    }

    <T> T read(Work<T> work) throws NodeRecordsException {
        ensureOpen();
        try {
            if (!readPermits.tryAcquire(POOL_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new NodeRecordsException("all read connections to " + file + " stayed busy for "
                        + POOL_WAIT.toSeconds() + " s; a query is stuck, restart the node");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NodeRecordsException("interrupted while waiting for a connection to " + file, e);
        }
        Connection c = null;
        try {
            c = idleReaders.poll();
            if (c == null) c = connect(true);
            return work.run(c);
        } catch (SQLException e) {
            throw translate(e);
        } finally {
            if (c != null) idleReaders.offer(c);
            readPermits.release();
            if (closed) closeIdleReaders();
        }
    }

    /** One IMMEDIATE transaction on the writer; rolled back if the work throws. */
    <T> T write(Work<T> work) throws NodeRecordsException {
        ensureOpen();
        writeLock.lock();
        try {
            ensureOpen();
            try (Statement tx = writer.createStatement()) {
                tx.execute("BEGIN IMMEDIATE");
                try {
                    T result = work.run(writer);
                    tx.execute("COMMIT");
                    return result;
                } catch (SQLException | RuntimeException e) {
                    try {
                        tx.execute("ROLLBACK");
                    } catch (SQLException rollbackFailed) {
                        e.addSuppressed(rollbackFailed);
                    }
                    throw e;
                }
            } catch (SQLException e) {
                throw translate(e);
            }
        } finally {
            writeLock.unlock();
        }
    }

    Path file() {
        return file;
    }

    @Override
    public void close() {
        closed = true;
        writeLock.lock();
        try {
            writer.close();
        } catch (SQLException ignored) {
            // closing: nothing useful to do
        } finally {
            writeLock.unlock();
        }
        closeIdleReaders();
    }

    private void migrate(List<Migration> migrations) throws NodeRecordsException {
        int latest = migrations.stream().mapToInt(Migration::version).max().orElse(0);
        write(c -> {
            int current;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                current = rs.next() ? rs.getInt(1) : 0;
            }
            if (current > latest) {
                throw new SQLException(new NodeRecordsException("the node database " + file + " has schema version "
                        + current + " but this Kiln knows only up to " + latest + ": it was written by a newer Kiln;"
                        + " upgrade Kiln, or use another home with --home or KILN_HOME"));
            }
            for (Migration m : migrations) {
                if (m.version() <= current) continue;
                try (Statement s = c.createStatement()) {
                    for (String sql : m.statements()) s.executeUpdate(sql);
                    s.executeUpdate("PRAGMA user_version = " + m.version());
                }
            }
            return null;
        });
    }

    private Connection connect(boolean readOnly) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout((int) BUSY_TIMEOUT.toMillis());
        if (!readOnly) {
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        }
        Connection c = config.createConnection("jdbc:sqlite:" + file);
        if (readOnly) {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA query_only = ON");
            }
        }
        return c;
    }

    private NodeRecordsException translate(SQLException e) {
        if (e.getCause() instanceof NodeRecordsException r) return r;
        return new NodeRecordsException("node database " + file + " failed: " + e.getMessage(), e);
    }

    private void ensureOpen() throws NodeRecordsException {
        if (closed) throw new NodeRecordsException("the node database " + file + " is closed");
    }

    private void closeIdleReaders() {
        for (Connection c; (c = idleReaders.poll()) != null; ) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing: nothing useful to do
            }
        }
    }
}
