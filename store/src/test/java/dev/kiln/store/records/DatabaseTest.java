package dev.kiln.store.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {

    private static final List<Migration> SCHEMA = List.of(
            new Migration(1, "CREATE TABLE t (v INTEGER NOT NULL)"),
            new Migration(2, "ALTER TABLE t ADD COLUMN note TEXT"));

    @TempDir
    Path dir;

    private Database db;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(dir.resolve("test.db"), SCHEMA, 2);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void readsDoNotWaitForAnOpenWriteTransaction() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                db.write(c -> {
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("INSERT INTO t (v) VALUES (1)");
                    }
                    writing.countDown();
                    await(release);
                    return null;
                });
            } catch (RecordsException e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();

        // The writer holds its transaction open; a reader still gets the last committed snapshot.
        assertThat(count()).isZero();

        release.countDown();
        writer.get(10, TimeUnit.SECONDS);
        assertThat(count()).isEqualTo(1);
    }

    @Test
    void readersRunConcurrently() throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Integer> slowReader = CompletableFuture.supplyAsync(() -> {
            try {
                return db.read(c -> {
                    reading.countDown();
                    await(release);
                    return 7;
                });
            } catch (RecordsException e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(count()).isZero();
        release.countDown();
        assertThat(slowReader.get(10, TimeUnit.SECONDS)).isEqualTo(7);
    }

    @Test
    void aFailedWriteIsRolledBack() throws Exception {
        assertThatThrownBy(() -> db.write(c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO t (v) VALUES (1)");
                s.executeUpdate("INSERT INTO t (v) VALUES (NULL)");
            }
            return null;
        })).isInstanceOf(RecordsException.class).hasMessageContaining("NOT NULL");
        assertThat(count()).isZero();
    }

    @Test
    void readConnectionsCannotWrite() {
        assertThatThrownBy(() -> db.read(c -> {
            try (Statement s = c.createStatement()) {
                return s.executeUpdate("INSERT INTO t (v) VALUES (1)");
            }
        })).isInstanceOf(RecordsException.class);
    }

    @Test
    void migrationsRunInOrderOnceAndResume() throws Exception {
        db.write(c -> {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO t (v, note) VALUES (1, 'kept')");
            }
            return null;
        });
        db.close();
        // Reopening with one more step applies only that step.
        List<Migration> grown = new java.util.ArrayList<>(SCHEMA);
        grown.add(new Migration(3, "CREATE INDEX t_v ON t (v)"));
        db = Database.open(dir.resolve("test.db"), grown, 2);
        int version = db.read(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                return rs.getInt(1);
            }
        });
        assertThat(version).isEqualTo(3);
        assertThat(count()).isEqualTo(1);
    }

    @Test
    void aClosedDatabaseSaysSo() {
        db.close();
        assertThatThrownBy(this::count).isInstanceOf(RecordsException.class).hasMessageContaining("closed");
    }

    private int count() throws RecordsException {
        return db.read(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
                return rs.getInt(1);
            }
        });
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("test latch timed out");
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
