package dev.kiln.guest;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An HTTP request for the program. The body is streamed to the agent in chunks as it is read from
 * {@code body} (null: no body). {@code timeout} bounds the wait for the response head (null: the
 * connection's default).
 */
public record GuestRequest(String method, String path, String query, List<Header> headers, String scheme,
                           String clientHost, int clientPort, String requestId, InputStream body, Duration timeout) {

    public GuestRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/")) throw new IllegalArgumentException("path must start with /");
        query = query == null ? "" : query;
        headers = List.copyOf(headers == null ? List.of() : headers);
        scheme = scheme == null ? "http" : scheme;
    }

    public static GuestRequest get(String path) {
        return new GuestRequest("GET", path, "", List.of(), "http", null, 0, null, null, null);
    }

    public static GuestRequest post(String path, byte[] body) {
        return get(path).withMethod("POST").withBody(body);
    }

    public GuestRequest withMethod(String m) {
        return new GuestRequest(m, path, query, headers, scheme, clientHost, clientPort, requestId, body, timeout);
    }

    public GuestRequest withQuery(String q) {
        return new GuestRequest(method, path, q, headers, scheme, clientHost, clientPort, requestId, body, timeout);
    }

    public GuestRequest withHeader(String name, String value) {
        List<Header> h = new ArrayList<>(headers);
        h.add(new Header(name, value));
        return new GuestRequest(method, path, query, h, scheme, clientHost, clientPort, requestId, body, timeout);
    }

    public GuestRequest withBody(byte[] bytes) {
        return withBody(new ByteArrayInputStream(bytes));
    }

    public GuestRequest withBody(InputStream stream) {
        return new GuestRequest(method, path, query, headers, scheme, clientHost, clientPort, requestId, stream, timeout);
    }

    public GuestRequest withRequestId(String id) {
        return new GuestRequest(method, path, query, headers, scheme, clientHost, clientPort, id, body, timeout);
    }

    public GuestRequest withTimeout(Duration t) {
        return new GuestRequest(method, path, query, headers, scheme, clientHost, clientPort, requestId, body, t);
    }
}
