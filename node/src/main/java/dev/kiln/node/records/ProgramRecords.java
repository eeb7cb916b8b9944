package dev.kiln.node.records;

import dev.kiln.store.records.Database;
import dev.kiln.store.records.RecordsException;

import dev.kiln.core.hash.ItemHash;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The PROGRAM messages this node knows, by item hash. */
public final class ProgramRecords {

    private static final String COLUMNS = "item_hash, sender, name, recorded_us, message_json";

    private final Database db;

    ProgramRecords(Database db) {
        this.db = db;
    }

    /** Records a message; false, changing nothing, if one with the same hash is already recorded. */
    public boolean add(ProgramRecord r) throws RecordsException {
        return db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO program (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (item_hash) DO NOTHING")) {
                ps.setString(1, r.messageHash().value());
                ps.setString(2, r.sender());
                if (r.name() != null) ps.setString(3, r.name()); else ps.setNull(3, Types.VARCHAR);
                ps.setLong(4, micros(r.recordedAt()));
                ps.setString(5, r.messageJson());
                return ps.executeUpdate() == 1;
            }
        });
    }

    public Optional<ProgramRecord> find(ItemHash messageHash) throws RecordsException {
        return db.read(c -> one(c, "SELECT " + COLUMNS + " FROM program WHERE item_hash = ?", messageHash.value()));
    }

    /** The newest program recorded under a local name. */
    public Optional<ProgramRecord> findByName(String name) throws RecordsException {
        return db.read(c -> one(c, "SELECT " + COLUMNS + " FROM program WHERE name = ? ORDER BY recorded_us DESC LIMIT 1",
                name));
    }

    /** Every program, oldest first. */
    public List<ProgramRecord> list() throws RecordsException {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM program ORDER BY recorded_us, item_hash");
                 ResultSet rs = ps.executeQuery()) {
                List<ProgramRecord> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        });
    }

    private static Optional<ProgramRecord> one(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static ProgramRecord row(ResultSet rs) throws SQLException {
        return new ProgramRecord(ItemHash.parse(rs.getString(1)), rs.getString(2), rs.getString(3),
                Instant.EPOCH.plus(rs.getLong(4), ChronoUnit.MICROS), rs.getString(5));
    }

    static long micros(Instant t) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    }
}
