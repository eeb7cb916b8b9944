package dev.kiln.guest;

/** The channel to the agent is gone (end of stream, I/O error, close); every in-flight call fails with it. */
public class GuestChannelClosedException extends GuestException {
    public GuestChannelClosedException(String message) {
        super(message);
    }

    public GuestChannelClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
