package dev.kiln.guest;

/** A call did not get its answer in time; for a request, the stream was cancelled on the agent. */
public class GuestTimeoutException extends GuestException {
    public GuestTimeoutException(String message) {
        super(message);
    }
}
