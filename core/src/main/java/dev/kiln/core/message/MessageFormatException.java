package dev.kiln.core.message;

/**
 * The text is not a message Kiln can read at all: malformed JSON, or a value of the wrong JSON type
 * (a string where a number belongs). Values of the right type but wrong content are not format
 * errors: they parse, and {@link MessageValidator} reports them all at once.
 */
public final class MessageFormatException extends RuntimeException {
    private final String path;
    private final String reason;
    private final int line;
    private final int column;

    MessageFormatException(String path, String reason, int line, int column, Throwable cause) {
        super(path == null ? reason : path + ": " + reason, cause);
        this.path = path;
        this.reason = reason;
        this.line = line;
        this.column = column;
    }

    static MessageFormatException at(String path, String reason) {
        return new MessageFormatException(path, reason, -1, -1, null);
    }

    /**
     * Field path of the offending value ({@code content.resources.memory}, {@code item_content}),
     * or null when the message text itself is not JSON.
     */
    public String path() {
        return path;
    }

    /** The message without the path. */
    public String reason() {
        return reason;
    }

    /** 1-based line of a syntax error, or -1. */
    public int line() {
        return line;
    }

    /** 1-based column of a syntax error, or -1. */
    public int column() {
        return column;
    }
}
