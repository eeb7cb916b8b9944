package dev.kiln.node.records;

import dev.kiln.store.records.Database;
import dev.kiln.store.records.Migration;
import dev.kiln.store.records.RecordsException;

import dev.kiln.store.KilnHome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The node's own records in SQLite ({@code <home>/db/node.db}): the PROGRAM messages it knows and
 * the executions (VMs) it ran. STORE messages stay in the store's database; this file holds what
 * only a node needs. Schema: docs/node.md.
 */
public final class NodeRecords implements AutoCloseable {

    static final String FILE_NAME = "node.db";
    private static final int READ_CONNECTIONS = 4;

    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, List.of("""
                    CREATE TABLE program (
                        item_hash    TEXT    PRIMARY KEY,
                        sender       TEXT    NOT NULL,
                        name         TEXT,
                        recorded_us  INTEGER NOT NULL,
                        message_json TEXT    NOT NULL
                    ) STRICT""",
                    "CREATE INDEX program_name ON program (name)",
                    """
                    CREATE TABLE execution (
                        id          TEXT    PRIMARY KEY,
                        program     TEXT    NOT NULL,
                        runtime     TEXT,
                        accelerator TEXT,
                        state       TEXT    NOT NULL,
                        started_us  INTEGER NOT NULL,
                        boot_us     INTEGER,
                        ended_us    INTEGER,
                        requests    INTEGER NOT NULL DEFAULT 0,
                        reason      TEXT
                    ) STRICT""",
                    "CREATE INDEX execution_program ON execution (program, started_us)")),
            // Ids unique across restarts need a number per node start; the process it was lets a
            // later start tell a crashed node's open rows from a node that still runs.
            new Migration(2, List.of("""
                    CREATE TABLE node_start (
                        id                INTEGER PRIMARY KEY AUTOINCREMENT,
                        pid               INTEGER NOT NULL,
                        process_start_us  INTEGER,
                        started_us        INTEGER NOT NULL
                    ) STRICT""",
                    "ALTER TABLE execution ADD COLUMN node_start INTEGER",
                    "ALTER TABLE execution ADD COLUMN ended_by TEXT",
                    "CREATE INDEX execution_open ON execution (ended_us) WHERE ended_us IS NULL")),
            // Published ports are the node's setting about a program (aleph keeps them in the
            // owner's "port-forwarding" aggregate), not part of its message.
            new Migration(3, List.of("""
                    CREATE TABLE published_port (
                        program  TEXT    NOT NULL,
                        protocol TEXT    NOT NULL CHECK (protocol IN ('tcp', 'udp')),
                        port     INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
                        PRIMARY KEY (program, protocol, port)
                    ) STRICT""")),
            // Booted or restored from a snapshot, and the parts of that start (docs/snapshots.md).
            new Migration(4, List.of(
                    "ALTER TABLE execution ADD COLUMN start TEXT",
                    "ALTER TABLE execution ADD COLUMN resolve_us INTEGER",
                    "ALTER TABLE execution ADD COLUMN vm_us INTEGER",
                    "ALTER TABLE execution ADD COLUMN configure_us INTEGER")));

    private final Database db;
    private final ProgramRecords programs;
    private final ExecutionRecords executions;
    private final PortRecords ports;
    private final DetachedVmRecords detachedVms;

    private NodeRecords(Database db) throws RecordsException {
        this.db = db;
        this.detachedVms = DetachedVmRecords.open(db);
        this.programs = new ProgramRecords(db);
        this.executions = new ExecutionRecords(db);
        this.ports = new PortRecords(db);
    }

    public static NodeRecords open(KilnHome home) throws RecordsException {
        try {
            home.create();
        } catch (IOException e) {
            throw new RecordsException("cannot create the Kiln home " + home.root() + ": " + e.getMessage(), e);
        }
        return open(home.db().resolve(FILE_NAME));
    }

    public static NodeRecords open(Path file) throws RecordsException {
        Database db = Database.open(file, MIGRATIONS, READ_CONNECTIONS);
        try {
            return new NodeRecords(db);
        } catch (RecordsException e) {
            db.close();
            throw e;
        }
    }

    public ProgramRecords programs() {
        return programs;
    }

    public ExecutionRecords executions() {
        return executions;
    }

    /** The guest ports each program has forwarded from the node. */
    public PortRecords ports() {
        return ports;
    }

    /** The persistent programs' VMs that outlive a node process (docs/node.md, "Restarts"). */
    public DetachedVmRecords detachedVms() {
        return detachedVms;
    }

    public Path file() {
        return db.file();
    }

    /** Writes the pending execution records, then closes the database. */
    @Override
    public void close() {
        executions.close();
        db.close();
    }
}
