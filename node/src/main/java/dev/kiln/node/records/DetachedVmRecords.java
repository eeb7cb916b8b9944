package dev.kiln.node.records;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.records.Database;
import dev.kiln.store.records.RecordsException;
import dev.kiln.vm.VmAdoption;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The persistent programs' VMs that outlive the node (docs/node.md, "Restarts"): one row per
 * program, the one authoritative record of its VM between two node processes — which VM, where
 * its files are, its VMM's pid. Written when a detached VM is READY, rewritten when a node adopts
 * it (the execution changes, the VM does not), removed when the VM ends. Its own table, made on
 * open, beside the numbered migrations of {@link NodeRecords}.
 */
public final class DetachedVmRecords {
    private static final String TABLE = """
            CREATE TABLE IF NOT EXISTS detached_vm (
                program     TEXT    PRIMARY KEY,
                execution   TEXT    NOT NULL,
                vm          TEXT    NOT NULL,
                work_dir    TEXT    NOT NULL,
                pid         INTEGER NOT NULL,
                recorded_us INTEGER NOT NULL
            ) STRICT""";

    /** One program's VM. */
    public record Row(ItemHash program, String execution, VmAdoption vm, Instant recordedAt) {
    }

    private final Database db;

    private DetachedVmRecords(Database db) {
        this.db = db;
    }

    static DetachedVmRecords open(Database db) throws RecordsException {
        db.write(c -> {
            try (var s = c.createStatement()) {
                s.execute(TABLE);
            }
            return null;
        });
        return new DetachedVmRecords(db);
    }

    /** Records (or replaces) the program's VM. */
    public void put(ItemHash program, String execution, VmAdoption vm) throws RecordsException {
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT OR REPLACE INTO detached_vm"
                    + " (program, execution, vm, work_dir, pid, recorded_us) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, program.value());
                ps.setString(2, execution);
                ps.setString(3, vm.vmId());
                ps.setString(4, vm.workDir().toString());
                ps.setLong(5, vm.pid());
                ps.setLong(6, ProgramRecords.micros(Instant.now()));
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Forgets the program's VM if the row still names {@code workDir} (a newer VM's row stays); true if removed. */
    public boolean remove(ItemHash program, Path workDir) throws RecordsException {
        return db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM detached_vm WHERE program = ? AND work_dir = ?")) {
                ps.setString(1, program.value());
                ps.setString(2, workDir.toString());
                return ps.executeUpdate() > 0;
            }
        });
    }

    public Optional<Row> find(ItemHash program) throws RecordsException {
        return list().stream().filter(r -> r.program().equals(program)).findFirst();
    }

    public List<Row> list() throws RecordsException {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT program, execution, vm, work_dir, pid, recorded_us FROM detached_vm ORDER BY program");
                 ResultSet rs = ps.executeQuery()) {
                List<Row> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Row(ItemHash.parse(rs.getString(1)), rs.getString(2),
                            new VmAdoption(rs.getString(3), Path.of(rs.getString(4)), rs.getLong(5)),
                            Instant.EPOCH.plusNanos(rs.getLong(6) * 1000)));
                }
                return out;
            }
        });
    }
}
