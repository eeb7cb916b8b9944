package dev.kiln.node.records;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.network.PortForward;
import dev.kiln.network.PublishedPort;
import dev.kiln.store.records.Database;
import dev.kiln.store.records.RecordsException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The guest ports each program asks to have forwarded from the node. Like aleph's per-owner
 * "port-forwarding" settings, they are the node's knowledge about a program, not part of its
 * PROGRAM message (which has no such field), so changing them never changes the program's hash.
 */
public final class PortRecords {

    private final Database db;

    PortRecords(Database db) {
        this.db = db;
    }

    /** Replaces the program's published ports with {@code ports} (empty: none). */
    public void publish(ItemHash program, List<PublishedPort> ports) throws RecordsException {
        db.write(c -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM published_port WHERE program = ?")) {
                del.setString(1, program.value());
                del.executeUpdate();
            }
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT OR IGNORE INTO published_port (program, protocol, port) VALUES (?, ?, ?)")) {
                for (PublishedPort p : ports) {
                    ins.setString(1, program.value());
                    ins.setString(2, p.protocol().name().toLowerCase(Locale.ROOT));
                    ins.setInt(3, p.port());
                    ins.executeUpdate();
                }
            }
            return null;
        });
    }

    /** The program's published ports, by protocol then port; empty when it has none. */
    public List<PublishedPort> of(ItemHash program) throws RecordsException {
        return db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT protocol, port FROM published_port WHERE program = ? ORDER BY protocol, port")) {
                ps.setString(1, program.value());
                try (ResultSet rs = ps.executeQuery()) {
                    List<PublishedPort> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new PublishedPort(PortForward.Protocol.valueOf(rs.getString(1).toUpperCase(Locale.ROOT)),
                                rs.getInt(2)));
                    }
                    return out;
                }
            }
        });
    }
}
