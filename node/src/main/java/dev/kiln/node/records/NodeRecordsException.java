package dev.kiln.node.records;

/** The node's records database failed: unreadable, locked too long, or written by a newer Kiln. */
public final class NodeRecordsException extends Exception {
    public NodeRecordsException(String message) {
        super(message);
    }

    public NodeRecordsException(String message, Throwable cause) {
        super(message, cause);
    }
}
