package dev.kiln.node.http;

import dev.kiln.node.error.ErrorCode;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;

/**
 * The webserver refuses some requests before any routing sees them (a header block over its
 * limit, a request line too long, a malformed head). Its default answer is an empty or HTML body;
 * clients of the node are promised the JSON error shape everywhere, so these get it too.
 */
final class DirectErrors implements DirectHandler {

    private DirectErrors() {
    }

    static DirectHandlers handlers() {
        DirectErrors json = new DirectErrors();
        DirectHandlers.Builder b = DirectHandlers.builder();
        for (EventType t : EventType.values()) b.addHandler(t, json);
        return b.build();
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                    ServerResponseHeaders headers, String message) {
        ErrorCode code = codeFor(status);
        byte[] body = ErrorResponses.body(code, explain(code, status, message), null);
        TransportResponse.Builder r = TransportResponse.builder()
                .status(status)
                .headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .header(HeaderNames.CACHE_CONTROL, "no-store")
                .entity(body);
        // A refused head leaves the connection in an unknown place in the byte stream.
        return r.keepAlive(eventType.keepAlive() && status.code() < 500 && code == ErrorCode.BAD_REQUEST).build();
    }

    static ErrorCode codeFor(Status status) {
        return switch (status.code()) {
            case 431 -> ErrorCode.HEADERS_TOO_LARGE;
            case 414 -> ErrorCode.URI_TOO_LONG;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            default -> status.code() >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
        };
    }

    private static String explain(ErrorCode code, Status status, String serverMessage) {
        return switch (code) {
            case HEADERS_TOO_LARGE -> "the request's header fields are larger than the node accepts; send fewer or smaller headers";
            case URI_TOO_LONG -> "the request's URL is longer than the node accepts; move data from the query into a body";
            case PAYLOAD_TOO_LARGE -> "the request body is larger than the node accepts";
            case INTERNAL -> "the node failed to read the request; its log has the details";
            // The webserver gives no words for a header block over its limit: name both causes.
            default -> serverMessage == null || serverMessage.isBlank()
                    ? "the request head could not be read: it is not valid HTTP/1.1, or its header fields are larger"
                      + " than the node accepts"
                    : "the request head could not be read: " + oneLine(serverMessage);
        };
    }

    /** The webserver's own words, kept short and on one line: they describe the client's bytes. */
    private static String oneLine(String s) {
        String line = s.strip().lines().findFirst().orElse("");
        return line.length() <= 160 ? line : line.substring(0, 157) + "...";
    }
}
