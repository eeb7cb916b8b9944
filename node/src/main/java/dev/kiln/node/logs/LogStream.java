package dev.kiln.node.logs;

import java.util.Locale;

/**
 * Where a log line came from. The serial console carries the kernel's messages, the init's and
 * anything else written to it on one line of bytes; {@link ConsoleLines} tells them apart
 * (docs/node.md, "Logs"). The configured program's stdout and stderr do not go through the
 * console: the agent captures them and sends them as OUTPUT frames, kept as {@link #STDOUT} and
 * {@link #STDERR}.
 */
public enum LogStream {
    /** The guest kernel (its boot messages; later only warnings, panics, the OOM killer). */
    KERNEL,
    /** Kiln's init (init0, the agent init1): boot steps, configuration, request failures it reports. */
    INIT,
    /** What the configured program wrote to its standard output. */
    STDOUT,
    /** What it wrote to its standard error (an ASGI app's logging and tracebacks too). */
    STDERR,
    /** Console lines neither the kernel's nor the init's: what a process wrote to /dev/console itself. */
    PROGRAM,
    /** The node itself, about this VM (a boot that failed before the console existed, the end). */
    NODE;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The stream named {@code s} (case-insensitive). */
    public static LogStream fromWire(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown log stream '" + s + "': use kernel, init, stdout, stderr, program or node");
        }
    }
}
