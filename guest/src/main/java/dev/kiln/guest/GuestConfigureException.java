package dev.kiln.guest;

/**
 * The program could not be set up. {@link #reason()} is meant for the program's owner;
 * {@link #traceback()} belongs in the node's log only.
 */
public class GuestConfigureException extends GuestException {
    private final String code;
    private final String reason;
    private final String traceback;

    public GuestConfigureException(String code, String reason, String traceback) {
        super("program configuration failed (" + code + "): " + reason);
        this.code = code;
        this.reason = reason;
        this.traceback = traceback;
    }

    /** The code as the agent wrote it, also when it is unknown here. */
    public String code() {
        return code;
    }

    /** The code to compare. */
    public GuestErrorCode errorCode() {
        return GuestErrorCode.of(code);
    }

    public String reason() {
        return reason;
    }

    /** The agent's Python traceback, or null. */
    public String traceback() {
        return traceback;
    }
}
