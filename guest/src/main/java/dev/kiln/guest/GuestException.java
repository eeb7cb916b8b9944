package dev.kiln.guest;

/** Base of every failure talking to a guest agent. Unchecked: callers run on virtual threads and rethrow. */
public class GuestException extends RuntimeException {
    public GuestException(String message) {
        super(message);
    }

    public GuestException(String message, Throwable cause) {
        super(message, cause);
    }
}
