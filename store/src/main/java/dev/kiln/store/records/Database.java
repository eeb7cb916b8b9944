package dev.kiln.store.records;

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
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * One SQLite file in WAL mode, shared safely by many threads.
 *
 * <p>SQLite allows one writer and many readers at a time. So: one writer connection, used by one
 * thread at a time (an in-process lock, so threads queue cheaply instead of spinning in SQLite's
 * busy handler), and a small pool of read-only connections that read concurrently from the WAL
 * snapshot without taking any Kiln lock. Not per-thread connections: virtual threads would each
 * open one. Other processes are coordinated by SQLite's own file locks plus a busy timeout.
 */
public final class Database implements AutoCloseable {

    /** Work done on a borrowed connection; the connection must not escape. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    static final Duration BUSY_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POOL_WAIT = Duration.ofSeconds(30);

    private final Path file;
    private final Connection writer;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Semaphore readPermits;
    private final ConcurrentLinkedQueue<Connection> idleReaders = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    private Database(Path file, int readers) throws RecordsException {
        this.file = file;
        this.readPermits = new Semaphore(readers, true);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            this.writer = connect(false);
        } catch (java.io.IOException | SQLException e) {
            throw new RecordsException("cannot open the records database " + file + ": " + e.getMessage()
                    + "; check that the Kiln home is writable", e);
        }
    }

    /** Opens (creating if needed) the database and brings its schema up to the last migration. */
    public static Database open(Path file, List<Migration> migrations, int readers) throws RecordsException {
        Database db = new Database(file, readers);
        try {
            db.migrate(migrations);
            return db;
        } catch (RecordsException | RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** Runs read-only work on a pooled connection, concurrently with other readers. */
    public <T> T read(Work<T> work) throws RecordsException {
        ensureOpen();
        try {
            if (!readPermits.tryAcquire(POOL_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new RecordsException("all read connections to " + file + " stayed busy for "
                        + POOL_WAIT.toSeconds() + " s; a query is stuck, restart Kiln");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RecordsException("interrupted while waiting for a connection to " + file, e);
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

    /**
     * Runs work in one transaction on the writer connection; rolled back if it throws. IMMEDIATE
     * takes the write lock at BEGIN, so a transaction never fails half-way because another process
     * started writing after it read.
     */
    public <T> T write(Work<T> work) throws RecordsException {
        ensureOpen();
        writeLock.lock();
        try {
            ensureOpen();
            // Explicit BEGIN IMMEDIATE rather than setAutoCommit(false): the driver would open the
            // next transaction right after each commit and hold the write lock between writes.
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

    public Path file() {
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

    private void migrate(List<Migration> migrations) throws RecordsException {
        int latest = migrations.stream().mapToInt(Migration::version).max().orElse(0);
        write(c -> {
            int current;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                current = rs.next() ? rs.getInt(1) : 0;
            }
            if (current > latest) {
                throw new SQLException(new RecordsException("the records database " + file + " has schema version "
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
            // WAL is a property of the file; setting it once from the writer is enough for all.
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            // In WAL mode NORMAL never corrupts; a power loss may drop the last commits, and these
            // records can be fetched again.
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

    private RecordsException translate(SQLException e) {
        if (e.getCause() instanceof RecordsException r) return r;
        if (e instanceof SQLiteException s && (s.getResultCode().code & 0xff) == SQLiteErrorCode.SQLITE_BUSY.code) {
            return new RecordsException("the records database " + file + " stayed locked by another process for "
                    + BUSY_TIMEOUT.toSeconds() + " s; wait for the other Kiln command to finish and try again", e);
        }
        return new RecordsException("records database " + file + " failed: " + e.getMessage(), e);
    }

    private void ensureOpen() throws RecordsException {
        if (closed) throw new RecordsException("the records database " + file + " is closed");
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
