package dev.kiln.vm.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/** Reading a VM's serial console, and keeping a bounded number of finished ones. */
final class ConsoleLog {
    /** A tail never reads more than this much of the end of a file (a chatty guest can write megabytes). */
    private static final int TAIL_BYTES = 64 * 1024;
    static final String SUFFIX = ".console.log";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private ConsoleLog() {
    }

    /** The last {@code lines} lines of a text file, without carriage returns or other control characters. */
    static String tail(Path file, int lines) {
        if (lines <= 0 || !Files.isRegularFile(file)) return "";
        byte[] bytes;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            int n = (int) Math.min(length, TAIL_BYTES);
            bytes = new byte[n];
            f.seek(length - n);
            f.readFully(bytes);
        } catch (IOException e) {
            return "";
        }
        return lastLines(new String(bytes, StandardCharsets.UTF_8), lines);
    }

    /** The last {@code lines} lines of console text, without carriage returns or other control characters. */
    static String lastLines(String raw, int lines) {
        if (lines <= 0) return "";
        String text = raw.replace("\r", "").replaceAll("[\\x00-\\x08\\x0b-\\x1f\\x7f]", "");
        List<String> all = Arrays.asList(text.split("\n", -1));
        if (!all.isEmpty() && all.getLast().isEmpty()) all = all.subList(0, all.size() - 1);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /**
     * Moves a finished console log into the archive directory as
     * {@code <UTC time>-<name>.console.log} and deletes the oldest archived logs beyond
     * {@code kept}. Returns where the log is now.
     */
    static Path archive(Path log, Path archive, String name, int kept) throws IOException {
        Files.createDirectories(archive);
        Path target = archive.resolve(STAMP.format(Instant.now()) + "-" + name + SUFFIX);
        Files.move(log, target, StandardCopyOption.REPLACE_EXISTING);
        prune(archive, kept);
        return target;
    }

    /** Keeps the newest {@code kept} archived logs (their names sort by time). */
    static void prune(Path archive, int kept) throws IOException {
        List<Path> logs;
        try (Stream<Path> files = Files.list(archive)) {
            logs = files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
        for (int i = 0; i < logs.size() - kept; i++) Files.deleteIfExists(logs.get(i));
    }

    /** Appends QEMU's own output (if any) to the console log, so one file tells the whole story. */
    static void appendVmmOutput(VmFiles files, String vmmOutput) {
        if (vmmOutput == null || vmmOutput.isBlank()) return;
        try {
            Files.writeString(files.consoleLog(), "\n--- QEMU's own output ---\n" + vmmOutput.strip() + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the console log is a convenience; the VM's outcome does not depend on it
        }
    }

    /** A small text file read whole, at most {@code max} bytes from its end. */
    static String readSmall(Path file, int max) {
        if (!Files.isRegularFile(file)) return "";
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            int n = (int) Math.min(length, max);
            byte[] bytes = new byte[n];
            f.seek(length - n);
            f.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
