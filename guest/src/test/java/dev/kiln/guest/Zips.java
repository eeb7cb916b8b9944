package dev.kiln.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds zip archives for tests, including ones no honest tool would make. */
final class Zips {
    private Zips() {
    }

    static byte[] of(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (var e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * The archive with {@code entry}'s uncompressed size in the central directory (where readers
     * take it from) replaced by {@code declared}: a lying header, whatever the data holds.
     */
    static byte[] declaring(byte[] zip, String entry, long declared) {
        byte[] out = zip.clone();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        byte[] name = entry.getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at + 46 <= out.length; at++) {
            if (b.getInt(at) != 0x02014B50) continue;
            int nameLength = Short.toUnsignedInt(b.getShort(at + 28));
            if (Arrays.equals(out, at + 46, at + 46 + nameLength, name, 0, name.length)) {
                b.putInt(at + 24, (int) declared);
                return out;
            }
        }
        throw new IllegalArgumentException("no central directory entry " + entry);
    }

    /** A test app from src/test/resources/dev/kiln/guest/apps/NAME, zipped. */
    static byte[] app(String name) throws IOException {
        Path dir = Path.of("src/test/resources/dev/kiln/guest/apps", name);
        LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>();
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                entries.put(dir.relativize(f).toString(), Files.readAllBytes(f));
            }
        }
        return of(entries);
    }
}
