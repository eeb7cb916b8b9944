package dev.kiln.guest;

/**
 * The connection has used its last stream id (ids are 31-bit and never reused, so this takes about
 * a billion streams). The connection closes itself like any other closure: the VM behind it must be
 * replaced, which is what a caller does on {@link GuestChannelClosedException} anyway.
 */
public class GuestChannelExhaustedException extends GuestChannelClosedException {
    public GuestChannelExhaustedException(String message) {
        super(message);
    }

    public GuestChannelExhaustedException(String message, Throwable cause) {
        super(message, cause);
    }
}
