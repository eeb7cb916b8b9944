package dev.kiln.node.control;

import dev.kiln.node.error.NodeException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The last allocation the operator sent, kept as {@code <home>/control/allocation.json} so a
 * restarted node converges to it. Written to a temporary file and moved into place, so a crash
 * mid-write leaves the previous allocation, never half of one.
 */
public final class AllocationFile {
    public static final String NAME = "allocation.json";

    private final Path file;

    public AllocationFile(Path dir) {
        this.file = dir.resolve(NAME);
    }

    public Path path() {
        return file;
    }

    /** The recorded allocation; empty if none was ever sent. */
    public Optional<Allocation> load() throws IOException {
        if (!Files.exists(file)) return Optional.empty();
        try {
            return Optional.of(Allocation.parse(Files.readAllBytes(file)));
        } catch (NodeException e) {
            throw new IOException(file + " is not an allocation (" + e.getMessage() + "); send a new one with"
                    + " POST /control/allocations, or delete the file to start with none", e);
        }
    }

    public void save(Allocation a) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), NAME, ".tmp");
        try {
            Files.write(tmp, Allocation.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(a.toJson()));
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
