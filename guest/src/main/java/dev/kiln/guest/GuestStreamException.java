package dev.kiln.guest;

/**
 * The agent ended one stream with an ERROR or CANCEL frame (for example {@code not_configured},
 * {@code halting}, {@code app_error} after a response started), or the host did for its own
 * reasons (a timeout, a cancel). The connection stays usable.
 */
public class GuestStreamException extends GuestException {
    private final String code;

    public GuestStreamException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    GuestStreamException(String code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    /** The code as the protocol wrote it (docs/guest-protocol.md §2.1), also when it is unknown here. */
    public String code() {
        return code;
    }

    /** The code to compare. */
    public GuestErrorCode errorCode() {
        return GuestErrorCode.of(code);
    }
}
