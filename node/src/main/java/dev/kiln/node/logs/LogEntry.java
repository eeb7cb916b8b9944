package dev.kiln.node.logs;

import java.time.Instant;

/**
 * One line of a VM's log.
 *
 * @param seq    increasing across the whole node, so a reader resumes after the last one it saw
 * @param vm     the execution id of the VM that wrote it
 */
public record LogEntry(long seq, Instant time, String vm, LogStream stream, String text) {
    /** What the entry counts against the log bounds: its text plus a fixed overhead. */
    long cost() {
        return text.length() + 48L;
    }
}
