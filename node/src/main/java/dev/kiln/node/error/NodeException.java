package dev.kiln.node.error;

import java.util.List;
import java.util.Objects;

/**
 * A request for a program failed in a way the client is told about: an {@link ErrorCode} and a
 * message written for the program's owner. {@code details} are field-level reasons (for an invalid
 * message: {@code content.code.ref: ...}). Never carries internals to the client: causes are for
 * the log.
 */
public final class NodeException extends Exception {
    /** One field-level problem. */
    public record Detail(String path, String reason) {
    }

    private final ErrorCode code;
    private final List<Detail> details;

    public NodeException(ErrorCode code, String message) {
        this(code, message, List.of(), null);
    }

    public NodeException(ErrorCode code, String message, Throwable cause) {
        this(code, message, List.of(), cause);
    }

    public NodeException(ErrorCode code, String message, List<Detail> details, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.code = Objects.requireNonNull(code, "code");
        this.details = List.copyOf(details);
    }

    public ErrorCode code() {
        return code;
    }

    public List<Detail> details() {
        return details;
    }
}
