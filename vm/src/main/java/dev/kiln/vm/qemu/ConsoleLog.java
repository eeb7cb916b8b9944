package dev.kiln.vm.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/** Reading and keeping the serial console files of a work directory. */
final class ConsoleLog {
    /** A tail never reads more than this much of the end of a file (a chatty guest can write megabytes). */
    private static final int TAIL_BYTES = 64 * 1024;

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
        String text = new String(bytes, StandardCharsets.UTF_8).replace("\r", "").replaceAll("[\\x00-\\x08\\x0b-\\x1f\\x7f]", "");
        List<String> all = Arrays.asList(text.split("\n", -1));
        if (!all.isEmpty() && all.getLast().isEmpty()) all = all.subList(0, all.size() - 1);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /**
     * Makes room for a new console: {@code console.log} becomes {@code console.1.log}, that one
     * {@code console.2.log}, …; the oldest beyond {@code kept} older logs is deleted.
     */
    static void rotate(VmFiles files, int kept) throws IOException {
        if (!Files.exists(files.consoleLog())) return;
        if (kept <= 0) {
            Files.delete(files.consoleLog());
            return;
        }
        Files.deleteIfExists(files.olderConsoleLog(kept));
        for (int i = kept - 1; i >= 1; i--) {
            if (Files.exists(files.olderConsoleLog(i))) {
                Files.move(files.olderConsoleLog(i), files.olderConsoleLog(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.move(files.consoleLog(), files.olderConsoleLog(1), StandardCopyOption.REPLACE_EXISTING);
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
