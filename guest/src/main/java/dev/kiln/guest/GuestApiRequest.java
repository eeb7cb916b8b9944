package dev.kiln.guest;

import java.util.List;
import java.util.Objects;

/**
 * A request the program made to the guest API inside its VM (docs/guest-api.md), as the agent
 * forwarded it over an API stream (docs/guest-protocol.md §6.6). The body is whole: the host
 * bounds it at {@link GuestApiHandler#MAX_REQUEST_BODY} before the handler sees it.
 *
 * @param path  the raw, percent-encoded path, starting with {@code /}
 * @param query the raw query string without {@code ?}, empty when none
 */
public record GuestApiRequest(String method, String path, String query, List<Header> headers, byte[] body) {
    public GuestApiRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        query = query == null ? "" : query;
        headers = List.copyOf(headers == null ? List.of() : headers);
        body = body == null ? new byte[0] : body;
    }

    /** The first value of a header (names compared without case), or null. */
    public String header(String name) {
        for (Header h : headers) {
            if (h.name().equalsIgnoreCase(name)) return h.value();
        }
        return null;
    }
}
