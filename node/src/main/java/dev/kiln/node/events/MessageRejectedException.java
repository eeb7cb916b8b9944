package dev.kiln.node.events;

/** A message that is not taken: its text says why and what to send instead (never a stack trace). */
public final class MessageRejectedException extends Exception {
    /** The kind of rejection, for the HTTP status and the feed's counters. */
    public enum Kind { TOO_LARGE, MALFORMED, BAD_HASH, INVALID, UNVERIFIABLE, UNSUPPORTED }

    private final Kind kind;

    public MessageRejectedException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
