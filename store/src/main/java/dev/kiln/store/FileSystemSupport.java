package dev.kiln.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** The few filesystem operations the store needs beyond {@link Files}: directory fsync, modes. */
final class FileSystemSupport {
    private FileSystemSupport() {}

    static final Set<PosixFilePermission> READ_ONLY = PosixFilePermissions.fromString("r--r--r--");

    static boolean isPosix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /**
     * Makes a rename or create in {@code dir} durable. Without it a crash after rename(2) can lose
     * the new directory entry even though the file's bytes were flushed.
     */
    static void fsyncDirectory(Path dir) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(dir, StandardOpenOption.READ);
        } catch (IOException | UnsupportedOperationException e) {
            // Some platforms cannot open a directory as a channel; the rename is still atomic
            // there, only its durability is up to the OS. A failing fsync below is a real error.
            return;
        }
        try (ch) {
            ch.force(true);
        }
    }

    /** Blobs are immutable: a stray writer must fail rather than silently corrupt one. */
    static void makeReadOnly(Path file) throws IOException {
        if (isPosix(file)) {
            Files.setPosixFilePermissions(file, READ_ONLY);
        } else if (!file.toFile().setReadOnly()) {
            throw new IOException("cannot make " + file + " read-only");
        }
    }

    /** Creates directories and, if any was new, fsyncs its parent so the new entry survives a crash. */
    static void createDirectoriesDurably(Path dir) throws IOException {
        if (Files.isDirectory(dir)) return;
        Path parent = dir.getParent();
        if (parent != null) createDirectoriesDurably(parent);
        try {
            Files.createDirectory(dir);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            if (Files.isDirectory(dir)) return;
            throw raced;
        }
        if (parent != null) fsyncDirectory(parent);
    }
}
