package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code <home>/quarantine}: where blobs found corrupted are kept for inspection instead of being
 * served. Each is named after its hash, the time and a random suffix, so that finding the same
 * hash bad twice never overwrites the earlier evidence.
 */
record Quarantine(Path directory) {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** Moves {@code blob} (the file of {@code hash}) in, durably; returns where it went. */
    Path take(ItemHash hash, Path blob) throws IOException {
        Path dest = directory.resolve(hash.value() + "." + TIME.format(Instant.now()) + "."
                + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt()));
        FileSystemSupport.createDirectoriesDurably(directory);
        try {
            Files.move(blob, dest, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException otherFilesystem) {
            Files.move(blob, dest);
        }
        FileSystemSupport.fsyncDirectory(blob.getParent());
        FileSystemSupport.fsyncDirectory(directory);
        return dest;
    }
}
