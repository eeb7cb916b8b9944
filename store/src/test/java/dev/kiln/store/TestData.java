package dev.kiln.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.stream.Stream;

/** Bytes and on-disk tampering for tests. */
public final class TestData {
    private TestData() {}

    public static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Flips one byte of a stored (read-only) blob in place, as bit rot or a stray writer would. */
    public static void flipByte(Path blob, long position) throws IOException {
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
        try (RandomAccessFile f = new RandomAccessFile(blob.toFile(), "rw")) {
            f.seek(position);
            int b = f.read();
            f.seek(position);
            f.write(b ^ 0x5a);
        }
    }

    /** Every file below {@code dir}, as paths relative to it. */
    public static java.util.List<Path> filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) return java.util.List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(dir::relativize).toList();
        }
    }
}
