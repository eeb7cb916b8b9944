package dev.kiln.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
