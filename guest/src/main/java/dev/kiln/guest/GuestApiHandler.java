package dev.kiln.guest;

/**
 * Answers the guest API of one VM (docs/guest-api.md). Called on a virtual thread of its own per
 * request, never on the channel's reader thread, so a slow answer holds up only its own stream.
 * It must not throw: an exception becomes a {@code 500 internal} JSON error and is logged.
 */
@FunctionalInterface
public interface GuestApiHandler {
    /** The largest request body the host accepts; larger ones get {@code 413} without the handler. */
    int MAX_REQUEST_BODY = 1 << 20;
    /** The largest response body a handler may return; larger ones become {@code 502}. */
    int MAX_RESPONSE_BODY = 16 << 20;
    /** API streams one VM may have open at once; more get {@code 429} at once. */
    int MAX_OPEN_STREAMS = 16;

    GuestApiResponse handle(GuestApiRequest request);
}
