package dev.kiln.node.records;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.records.Database;
import dev.kiln.store.records.RecordsException;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmAdoption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The persistent programs' VMs that outlive the node (docs/node.md, "Restarts"): one row per
 * program, the one authoritative record of its VM between two node processes — which VM, where
 * its files are, its VMM's pid, and what it holds that the next node must claim again before
 * anything else can take it (its writable drives, its network). Written when a detached VM is
 * READY, rewritten when a node adopts it (the execution changes, the VM does not), removed when the
 * VM ends. Its own table, made on open, beside the numbered migrations of {@link NodeRecords};
 * columns added since are added on open too.
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
    /** Added after the table's first version: a row without them holds nothing. */
    private static final List<String> HOLDING_COLUMNS = List.of("vm_name TEXT", "drives TEXT", "network TEXT");
    /** Separates a drive's id and file, and drives from each other: neither is in a path Kiln makes. */
    private static final String FIELD = "\u001f";
    private static final String ITEM = "\u001e";

    /**
     * What a detached VM holds beyond its process: the name its persistent volumes are claimed
     * under (the VM's spec name), its writable drives (persistent volumes, scratch images,
     * export drive) and its network as {@code ProgramNetworks} encodes it (null: no NIC).
     */
    public record Holdings(String vmName, List<Drive> drives, String network) {
        public static final Holdings NONE = new Holdings("", List.of(), null);

        public Holdings {
            Objects.requireNonNull(vmName, "vmName");
            drives = drives == null ? List.of() : List.copyOf(drives);
        }
    }

    /** One program's VM. */
    public record Row(ItemHash program, String execution, VmAdoption vm, Instant recordedAt, Holdings holdings) {
    }

    private final Database db;

    private DetachedVmRecords(Database db) {
        this.db = db;
    }

    static DetachedVmRecords open(Database db) throws RecordsException {
        db.write(c -> {
            try (var s = c.createStatement()) {
                s.execute(TABLE);
                Set<String> have = columns(c);
                for (String column : HOLDING_COLUMNS) {
                    if (!have.contains(column.split(" ")[0])) s.execute("ALTER TABLE detached_vm ADD COLUMN " + column);
                }
            }
            return null;
        });
        return new DetachedVmRecords(db);
    }

    private static Set<String> columns(Connection c) throws SQLException {
        Set<String> out = new HashSet<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA table_info(detached_vm)")) {
            while (rs.next()) out.add(rs.getString("name"));
        }
        return out;
    }

    /** Records (or replaces) the program's VM, holding nothing beyond its process. */
    public void put(ItemHash program, String execution, VmAdoption vm) throws RecordsException {
        put(program, execution, vm, Holdings.NONE);
    }

    /** Records (or replaces) the program's VM and what it holds. */
    public void put(ItemHash program, String execution, VmAdoption vm, Holdings holdings) throws RecordsException {
        db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT OR REPLACE INTO detached_vm (program, execution, vm,"
                    + " work_dir, pid, recorded_us, vm_name, drives, network) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, program.value());
                ps.setString(2, execution);
                ps.setString(3, vm.vmId());
                ps.setString(4, vm.workDir().toString());
                ps.setLong(5, vm.pid());
                ps.setLong(6, ProgramRecords.micros(Instant.now()));
                ps.setString(7, holdings.vmName());
                ps.setString(8, encode(holdings.drives()));
                ps.setString(9, holdings.network());
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
            try (PreparedStatement ps = c.prepareStatement("SELECT program, execution, vm, work_dir, pid, recorded_us,"
                    + " vm_name, drives, network FROM detached_vm ORDER BY program");
                 ResultSet rs = ps.executeQuery()) {
                List<Row> out = new ArrayList<>();
                while (rs.next()) {
                    String vmName = rs.getString(7);
                    Holdings held = vmName == null ? Holdings.NONE : new Holdings(vmName, decode(rs.getString(8)), rs.getString(9));
                    out.add(new Row(ItemHash.parse(rs.getString(1)), rs.getString(2),
                            new VmAdoption(rs.getString(3), Path.of(rs.getString(4)), rs.getLong(5)),
                            Instant.EPOCH.plusNanos(rs.getLong(6) * 1000), held));
                }
                return out;
            }
        });
    }

    private static String encode(List<Drive> drives) {
        StringBuilder b = new StringBuilder();
        for (Drive d : drives) {
            if (!b.isEmpty()) b.append(ITEM);
            b.append(d.id()).append(FIELD).append(d.file()).append(FIELD).append(d.readOnly());
        }
        return b.toString();
    }

    private static List<Drive> decode(String text) {
        if (text == null || text.isEmpty()) return List.of();
        List<Drive> out = new ArrayList<>();
        for (String item : text.split(ITEM, -1)) {
            String[] f = item.split(FIELD, -1);
            out.add(new Drive(f[0], Path.of(f[1]), Boolean.parseBoolean(f[2])));
        }
        return out;
    }
}
