package dev.kiln.node.program;

/** A program's code could not be packed; the message says what to do. */
public final class PackagingException extends Exception {
    public PackagingException(String message) {
        super(message);
    }

    public PackagingException(String message, Throwable cause) {
        super(message, cause);
    }
}
