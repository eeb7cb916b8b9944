package dev.kiln.node.instance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a node records of one instance, in {@code <home>/instances/<hash>/state.json}: whether the
 * operator allocated it, the host port of its SSH forward, the pid of its QEMU and its persistent
 * volumes, so that the next node re-adopts the running QEMU instead of booting a second one. The file is this
 * instance's one authoritative record; it is replaced atomically (written beside, then renamed),
 * so a crash leaves the old record or the new one, never half of one.
 *
 * @param pid       the QEMU daemon's pid, 0 when none was started
 * @param bootedAt  when that QEMU was started (its guest's boot), null when none
 * @param kept      the persistent volumes its QEMUs attach: the next node claims them for this
 *                  instance before anything else can (its QEMU may still have them open), and
 *                  {@code erase} deletes them even when the message can no longer be read
 */
public record InstanceState(ItemHash message, boolean allocated, int sshPort, long pid, Instant bootedAt,
                            List<Kept> kept) {
    static final String FILE = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A persistent volume of the instance, and the position of its drive among the volumes. */
    public record Kept(String owner, String name, int index) {
    }

    public InstanceState {
        kept = List.copyOf(kept);
    }

    InstanceState(ItemHash message, boolean allocated, int sshPort, long pid, Instant bootedAt) {
        this(message, allocated, sshPort, pid, bootedAt, List.of());
    }

    InstanceState withAllocated(boolean a) {
        return new InstanceState(message, a, sshPort, pid, bootedAt, kept);
    }

    InstanceState withBoot(int port, long newPid, Instant at) {
        return new InstanceState(message, allocated, port, newPid, at, kept);
    }

    InstanceState withKept(List<Kept> volumes) {
        return new InstanceState(message, allocated, sshPort, pid, bootedAt, volumes);
    }

    void write(Path dir) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("message", message.value());
        o.put("allocated", allocated);
        o.put("ssh_port", sshPort);
        o.put("pid", pid);
        if (bootedAt != null) o.put("booted_at", bootedAt.toString());
        var volumes = o.putArray("persistent_volumes");
        for (Kept k : kept) volumes.addObject().put("owner", k.owner()).put("name", k.name()).put("index", k.index());
        Path tmp = dir.resolve(FILE + ".tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o));
        try {
            Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The record in {@code dir}, empty if there is none. */
    static Optional<InstanceState> read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) return Optional.empty();
        JsonNode o = JSON.readTree(f.toFile());
        String booted = o.path("booted_at").asText(null);
        List<Kept> kept = new ArrayList<>();
        for (JsonNode k : o.path("persistent_volumes")) {
            kept.add(new Kept(k.path("owner").asText(), k.path("name").asText(), k.path("index").asInt()));
        }
        return Optional.of(new InstanceState(ItemHash.parse(o.path("message").asText()), o.path("allocated").asBoolean(),
                o.path("ssh_port").asInt(), o.path("pid").asLong(),
                booted == null ? null : Instant.parse(booted), kept));
    }
}
