package dev.kiln.guest;

/**
 * A LOG frame (or a connection-level ERROR) from the agent, for the node's log: app tracebacks,
 * program exits. {@code requestId}, {@code traceback} and {@code kind} may be null.
 */
public record GuestLog(String level, String message, String requestId, String traceback, String kind) {
}
