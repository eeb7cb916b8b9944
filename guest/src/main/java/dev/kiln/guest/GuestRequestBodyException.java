package dev.kiln.guest;

/**
 * Reading the request body to upload failed (in a node: the HTTP client sent a broken chunk, or
 * less than its Content-Length, or went away). The stream was cancelled on the agent; the VM is
 * fine. {@link #getCause()} is what the body's stream threw.
 */
public class GuestRequestBodyException extends GuestStreamException {
    GuestRequestBodyException(String message, Throwable cause) {
        super(GuestErrorCode.BODY_FAILED.wire(), message, cause);
    }
}
