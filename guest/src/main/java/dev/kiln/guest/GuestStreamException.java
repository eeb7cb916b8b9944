package dev.kiln.guest;

/**
 * The agent ended one stream with an ERROR or CANCEL frame (for example {@code not_configured},
 * {@code halting}, {@code app_error} after a response started). The connection stays usable.
 */
public class GuestStreamException extends GuestException {
    private final String code;

    public GuestStreamException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    /** The protocol's error or cancel code (docs/guest-protocol.md §2.1). */
    public String code() {
        return code;
    }
}
