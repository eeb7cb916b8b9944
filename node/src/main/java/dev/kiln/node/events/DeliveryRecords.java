package dev.kiln.node.events;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.KilnHome;
import dev.kiln.store.records.Database;
import dev.kiln.store.records.Migration;
import dev.kiln.store.records.RecordsException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every delivery's outcome, in SQLite ({@code <home>/db/deliveries.db}): kept apart from the
 * node's own records so that its schema evolves on its own. Writes go through the database's one
 * writer; the delivery workers of different programs only meet there, for one short insert each.
 */
public final class DeliveryRecords implements AutoCloseable {
    static final String FILE_NAME = "deliveries.db";
    private static final int READERS = 2;

    private static final List<Migration> SCHEMA = List.of(new Migration(1, """
            CREATE TABLE IF NOT EXISTS delivery (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                program     TEXT    NOT NULL,
                message     TEXT    NOT NULL,
                source      TEXT    NOT NULL,
                outcome     TEXT    NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dropped', 'skipped')),
                attempts    INTEGER NOT NULL CHECK (attempts >= 0),
                detail      TEXT,
                received_us INTEGER NOT NULL,
                finished_us INTEGER NOT NULL,
                latency_us  INTEGER
            ) STRICT""",
            "CREATE INDEX IF NOT EXISTS delivery_program ON delivery (program, id)",
            "CREATE INDEX IF NOT EXISTS delivery_message ON delivery (message)"));

    private static final String COLUMNS =
            "program, message, source, outcome, attempts, detail, received_us, finished_us, latency_us";

    private final Database db;

    private DeliveryRecords(Database db) {
        this.db = db;
    }

    public static DeliveryRecords open(KilnHome home) throws RecordsException {
        return open(home.db().resolve(FILE_NAME));
    }

    public static DeliveryRecords open(Path file) throws RecordsException {
        return new DeliveryRecords(Database.open(file, SCHEMA, READERS));
    }

    public void add(Delivery d) throws RecordsException {
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO delivery (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, d.program().value());
                ps.setString(2, d.message().value());
                ps.setString(3, d.source());
                ps.setString(4, d.outcome().wire());
                ps.setInt(5, d.attempts());
                if (d.detail() != null) ps.setString(6, d.detail()); else ps.setNull(6, Types.VARCHAR);
                ps.setLong(7, micros(d.received()));
                ps.setLong(8, micros(d.finished()));
                if (d.latency() != null) ps.setLong(9, d.latency().toNanos() / 1000); else ps.setNull(9, Types.INTEGER);
                return ps.executeUpdate();
            }
        });
    }

    /** The newest deliveries first, all programs or one, at most {@code limit}. */
    public List<Delivery> recent(Optional<ItemHash> program, int limit) throws RecordsException {
        return db.read(c -> {
            String sql = "SELECT " + COLUMNS + " FROM delivery" + (program.isPresent() ? " WHERE program = ?" : "")
                    + " ORDER BY id DESC LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (program.isPresent()) ps.setString(i++, program.get().value());
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<Delivery> out = new ArrayList<>();
                    while (rs.next()) out.add(row(rs));
                    return out;
                }
            }
        });
    }

    /** The deliveries of one message, oldest first. */
    public List<Delivery> ofMessage(ItemHash message) throws RecordsException {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM delivery WHERE message = ? ORDER BY id")) {
                ps.setString(1, message.value());
                try (ResultSet rs = ps.executeQuery()) {
                    List<Delivery> out = new ArrayList<>();
                    while (rs.next()) out.add(row(rs));
                    return out;
                }
            }
        });
    }

    public Path file() {
        return db.file();
    }

    @Override
    public void close() {
        db.close();
    }

    private static Delivery row(ResultSet rs) throws SQLException {
        long latency = rs.getLong("latency_us");
        Duration l = rs.wasNull() ? null : Duration.ofNanos(latency * 1000);
        return new Delivery(ItemHash.parse(rs.getString("program")), ItemHash.parse(rs.getString("message")),
                rs.getString("source"), DeliveryOutcome.valueOf(rs.getString("outcome").toUpperCase(java.util.Locale.ROOT)),
                rs.getInt("attempts"), rs.getString("detail"), instant(rs.getLong("received_us")),
                instant(rs.getLong("finished_us")), l);
    }

    private static long micros(Instant t) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    }

    private static Instant instant(long us) {
        return Instant.EPOCH.plus(us, ChronoUnit.MICROS);
    }
}
