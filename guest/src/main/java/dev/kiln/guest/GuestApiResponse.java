package dev.kiln.guest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** The host's answer to a {@link GuestApiRequest}; the agent gives it to the program as an HTTP response. */
public record GuestApiResponse(int status, List<Header> headers, byte[] body) {
    public GuestApiResponse {
        if (status < 100 || status > 599) throw new IllegalArgumentException("status must be 100-599, got " + status);
        Objects.requireNonNull(body, "body");
        headers = List.copyOf(headers == null ? List.of() : headers);
    }

    public static GuestApiResponse of(int status, String contentType, byte[] body) {
        return new GuestApiResponse(status, List.of(new Header("content-type", contentType)), body);
    }

    public static GuestApiResponse json(int status, String json) {
        return of(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code {"error": {"code": ..., "message": ...}}}, the shape of every guest-API error. */
    public static GuestApiResponse error(int status, String code, String message) {
        return json(status, "{\"error\":{\"code\":" + WireCodec.quote(code) + ",\"message\":" + WireCodec.quote(message) + "}}");
    }

    /** The headers as sent: the handler's, without framing headers, plus the body's length. */
    public List<Header> wireHeaders() {
        List<Header> out = new ArrayList<>(headers.size() + 1);
        for (Header h : headers) {
            String n = h.name().toLowerCase(java.util.Locale.ROOT);
            if (n.equals("content-length") || n.equals("transfer-encoding") || n.equals("connection")) continue;
            out.add(h);
        }
        out.add(new Header("content-length", Integer.toString(body.length)));
        return out;
    }
}
