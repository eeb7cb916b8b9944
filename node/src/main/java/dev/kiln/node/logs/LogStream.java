package dev.kiln.node.logs;

import java.util.Locale;

/**
 * Where a log line came from. The serial console carries the kernel's messages, the init's and
 * the program's output on one line of bytes; {@link ConsoleLines} tells them apart (docs/node.md,
 * "Logs"). The program's stdout and stderr share the guest's tty, so they arrive together as
 * {@link #PROGRAM}.
 */
public enum LogStream {
    /** The guest kernel (its boot messages; later only warnings, panics, the OOM killer). */
    KERNEL,
    /** Kiln's init (init0, the agent init1): boot steps, configuration, request failures it reports. */
    INIT,
    /** What the program printed (stdout and stderr), and the tracebacks of its failures. */
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
            throw new IllegalArgumentException("unknown log stream '" + s + "': use kernel, init, program or node");
        }
    }
}
