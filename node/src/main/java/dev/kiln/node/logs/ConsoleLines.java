package dev.kiln.node.logs;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Cuts a VM's console bytes into lines and tells whose each line is. Before init0's first line
 * everything is the kernel's; lines prefixed {@code kiln-init0:} / {@code kiln-init1:} are the
 * init's; the kernel's late messages (panics, warnings, the OOM killer) are recognised by their
 * well-known openings; the rest is the program's. A heuristic, because the guest has one console:
 * a kernel warning printed in the middle of a program's line stays in it.
 */
final class ConsoleLines {
    /** A longer line is cut (a program printing without newlines must not grow a line forever). */
    static final int MAX_LINE = 8 * 1024;
    private static final Pattern CONTROL = Pattern.compile("\\x1b\\[[0-9;?]*[A-Za-z]|[\\x00-\\x08\\x0b-\\x1f\\x7f]");
    private static final List<String> KERNEL_OPENINGS = List.of("Kernel panic", "---[ end Kernel panic", "BUG:", "WARNING:",
            "Call Trace:", "Out of memory", "oom-kill", "Killed process", "------------[ cut here ]", "RIP:", "CPU:",
            "Hardware name:", "Code:", "note:", "Run /sbin/init", "EXT4-fs", "squashfs:", "overlayfs:", "random:",
            "virtio_", "Freeing unused");

    private final BiConsumer<LogStream, String> sink;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private boolean initSeen;

    ConsoleLines(BiConsumer<LogStream, String> sink) {
        this.sink = sink;
    }

    /** Feeds raw console bytes; complete lines go to the sink. */
    void feed(byte[] bytes) {
        for (byte b : bytes) {
            if (b == '\n') {
                emit();
            } else if (b != '\r') {
                line.write(b);
                if (line.size() >= MAX_LINE) emit();
            }
        }
    }

    /** The console ended: a last line without its newline still counts. */
    void finish() {
        if (line.size() > 0) emit();
    }

    private void emit() {
        String text = CONTROL.matcher(line.toString(StandardCharsets.UTF_8)).replaceAll("");
        line.reset();
        sink.accept(classify(text), text);
    }

    LogStream classify(String text) {
        if (text.startsWith("kiln-init0:") || text.startsWith("kiln-init1:")) {
            initSeen = true;
            return LogStream.INIT;
        }
        if (!initSeen) return LogStream.KERNEL;
        if (text.startsWith("[kiln: ")) return LogStream.NODE;
        String t = text.stripLeading();
        for (String k : KERNEL_OPENINGS) if (t.startsWith(k)) return LogStream.KERNEL;
        return LogStream.PROGRAM;
    }
}
