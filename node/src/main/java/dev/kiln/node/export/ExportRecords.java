package dev.kiln.node.export;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.records.Database;
import dev.kiln.store.records.Migration;
import dev.kiln.store.records.RecordsException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The exports made on this node, in their own SQLite file ({@code <home>/db/exports.db}) so that
 * they need no migration of the node's records; the table is created if missing.
 */
public final class ExportRecords implements AutoCloseable {
    static final String FILE_NAME = "exports.db";
    private static final List<Migration> SCHEMA = List.of(new Migration(1, List.of("""
            CREATE TABLE IF NOT EXISTS data_export (
                program     TEXT    NOT NULL,
                execution   TEXT    NOT NULL,
                message     TEXT    NOT NULL,
                file_hash   TEXT    NOT NULL,
                size        INTEGER NOT NULL,
                files       INTEGER NOT NULL,
                skipped     INTEGER NOT NULL,
                exported_us INTEGER NOT NULL
            ) STRICT""", "CREATE INDEX IF NOT EXISTS data_export_program ON data_export (program, exported_us)")));
    private static final String COLUMNS = "program, execution, message, file_hash, size, files, skipped, exported_us";

    private final Database db;

    private ExportRecords(Database db) {
        this.db = db;
    }

    public static ExportRecords open(Path dbDir) throws RecordsException {
        return new ExportRecords(Database.open(dbDir.resolve(FILE_NAME), SCHEMA, 2));
    }

    public void add(ExportRecord r) throws RecordsException {
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO data_export (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, r.program().value());
                ps.setString(2, r.execution());
                ps.setString(3, r.message().value());
                ps.setString(4, r.fileHash().value());
                ps.setLong(5, r.size());
                ps.setInt(6, r.files());
                ps.setInt(7, r.skipped());
                ps.setLong(8, ChronoUnit.MICROS.between(Instant.EPOCH, r.exportedAt()));
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The latest {@code limit} exports, newest first; of one program, or of all when {@code program} is null. */
    public List<ExportRecord> latest(ItemHash program, int limit) throws RecordsException {
        return db.read(c -> {
            String where = program == null ? "" : " WHERE program = ?";
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM data_export" + where
                    + " ORDER BY exported_us DESC, rowid DESC LIMIT ?")) {
                int i = 1;
                if (program != null) ps.setString(i++, program.value());
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<ExportRecord> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new ExportRecord(ItemHash.parse(rs.getString(1)), rs.getString(2),
                                ItemHash.parse(rs.getString(3)), ItemHash.parse(rs.getString(4)), rs.getLong(5),
                                rs.getInt(6), rs.getInt(7), Instant.EPOCH.plus(rs.getLong(8), ChronoUnit.MICROS)));
                    }
                    return out;
                }
            }
        });
    }

    @Override
    public void close() {
        db.close();
    }
}
