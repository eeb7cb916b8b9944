package dev.kiln.store.records;

import dev.kiln.core.hash.ItemHash;
import java.nio.file.Path;
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

/**
 * The STORE messages Kiln knows, in SQLite ({@code <home>/db/store.db}), and the amend rule that
 * turns a {@code ref} into the file to use. Thread-safe: reads run concurrently on pooled
 * connections, writes queue for the single writer (see {@link Database}). Schema: docs/store.md.
 */
public final class StoreRecords implements AutoCloseable {

    public static final String FILE_NAME = "store.db";
    static final int READ_CONNECTIONS = 4;

    /** The schema, step by step; index i holds version i + 1. Append only. */
    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, """
                    CREATE TABLE store_message (
                        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
                        item_hash    TEXT    NOT NULL UNIQUE,
                        sender       TEXT    NOT NULL,
                        owner        TEXT    NOT NULL,
                        file_hash    TEXT    NOT NULL,
                        item_type    TEXT    NOT NULL CHECK (item_type IN ('storage', 'ipfs')),
                        ref          TEXT,
                        size         INTEGER CHECK (size IS NULL OR size >= 0),
                        content_type TEXT,
                        time_us      INTEGER NOT NULL,
                        message_json TEXT    NOT NULL
                    ) STRICT""",
                    "CREATE INDEX store_message_ref ON store_message (ref)",
                    "CREATE INDEX store_message_file ON store_message (file_hash)"));

    private static final String COLUMNS =
            "item_hash, sender, file_hash, item_type, ref, size, content_type, time_us, message_json";

    /**
     * Every message reachable from the original through {@code ref} links, by the original's owner
     * only: an amend by someone else, and anything amending that, is not part of the chain.
     * UNION (not UNION ALL) makes a ref cycle terminate.
     */
    private static final String LATEST_IN_CHAIN = """
            WITH RECURSIVE
              origin(item_hash, owner) AS (SELECT item_hash, owner FROM store_message WHERE item_hash = ?),
              chain(item_hash) AS (
                SELECT item_hash FROM origin
                UNION
                SELECT m.item_hash FROM store_message m JOIN chain c ON m.ref = c.item_hash
                 WHERE m.owner = (SELECT owner FROM origin))
            SELECT %s FROM store_message WHERE item_hash IN (SELECT item_hash FROM chain)
            ORDER BY time_us DESC, seq DESC LIMIT 1""".formatted(COLUMNS);

    private final Database db;

    private StoreRecords(Database db) {
        this.db = db;
    }

    /** Opens (creating and migrating if needed) a records database at an explicit path. */
    public static StoreRecords open(Path file) throws RecordsException {
        return new StoreRecords(Database.open(file, MIGRATIONS, READ_CONNECTIONS));
    }

    /**
     * Records a STORE message. Returns false, changing nothing, if a message with the same item hash
     * is already recorded: a message's hash fixes its content, and its insertion order must stay
     * the first one for amend tie-breaking.
     */
    public boolean add(StoreRecord r) throws RecordsException {
        return db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO store_message (" + COLUMNS + ", owner)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_hash) DO NOTHING")) {
                ps.setString(1, r.messageHash().value());
                ps.setString(2, r.sender());
                ps.setString(3, r.fileHash().value());
                ps.setString(4, r.itemType().wire());
                if (r.ref() != null) ps.setString(5, r.ref().value()); else ps.setNull(5, Types.VARCHAR);
                if (r.size() != null) ps.setLong(6, r.size()); else ps.setNull(6, Types.INTEGER);
                if (r.contentType() != null) ps.setString(7, r.contentType()); else ps.setNull(7, Types.VARCHAR);
                ps.setLong(8, toMicros(r.time()));
                ps.setString(9, r.messageJson());
                ps.setString(10, r.owner());
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** The message with this item hash, if recorded. */
    public Optional<StoreRecord> find(ItemHash messageHash) throws RecordsException {
        return db.read(c -> queryOne(c, "SELECT " + COLUMNS + " FROM store_message WHERE item_hash = ?", messageHash));
    }

    /** All recorded messages, oldest first (by time, then insertion order). */
    public List<StoreRecord> list() throws RecordsException {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT " + COLUMNS + " FROM store_message ORDER BY time_us, seq");
                 ResultSet rs = ps.executeQuery()) {
                List<StoreRecord> out = new ArrayList<>();
                while (rs.next()) out.add(row(rs));
                return out;
            }
        });
    }

    /**
     * The newest message of the original's amend chain: the original itself and every message that
     * amends it (directly or through another amend) sent by the original's sender; newest by time,
     * and among equal times the last recorded. Empty if the original is not recorded.
     */
    public Optional<StoreRecord> resolveLatest(ItemHash original) throws RecordsException {
        return db.read(c -> queryOne(c, LATEST_IN_CHAIN, original));
    }

    /** What a {@code ref} with {@code use_latest} resolves to: the latest amend, or exactly the message. */
    public Optional<StoreRecord> resolve(ItemHash ref, boolean useLatest) throws RecordsException {
        return useLatest ? resolveLatest(ref) : find(ref);
    }

    /** The schema version of the open database ({@code PRAGMA user_version}). */
    public int schemaVersion() throws RecordsException {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("PRAGMA user_version"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
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

    private static Optional<StoreRecord> queryOne(Connection c, String sql, ItemHash hash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, hash.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static StoreRecord row(ResultSet rs) throws SQLException {
        String ref = rs.getString("ref");
        long size = rs.getLong("size");
        Long sizeOrNull = rs.wasNull() ? null : size;
        return new StoreRecord(
                ItemHash.parse(rs.getString("item_hash")),
                rs.getString("sender"),
                ItemHash.parse(rs.getString("file_hash")),
                StoreRecord.ItemType.fromWire(rs.getString("item_type")),
                ref == null ? null : ItemHash.parse(ref),
                sizeOrNull,
                rs.getString("content_type"),
                fromMicros(rs.getLong("time_us")),
                rs.getString("message_json"));
    }

    private static long toMicros(Instant t) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    }

    private static Instant fromMicros(long us) {
        return Instant.EPOCH.plus(us, ChronoUnit.MICROS);
    }
}
