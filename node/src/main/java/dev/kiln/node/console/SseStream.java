package dev.kiln.node.console;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A Server-Sent Events response (text/event-stream), written from the request's own virtual
 * thread. Each event is flushed at once; a write to a client that went away throws
 * {@link IOException}, which ends the stream's loop.
 */
final class SseStream implements AutoCloseable {
    private final OutputStream out;

    SseStream(ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderNames.create("X-Accel-Buffering"), "no");
        this.out = res.outputStream();
    }

    /** One event; {@code data} may span lines (each becomes a {@code data:} line). */
    void event(String name, String id, String data) throws IOException {
        StringBuilder b = new StringBuilder();
        if (id != null) b.append("id: ").append(id).append('\n');
        if (name != null) b.append("event: ").append(name).append('\n');
        for (String line : data.split("\n", -1)) b.append("data: ").append(line.replace("\r", "")).append('\n');
        b.append('\n');
        write(b.toString());
    }

    /** A comment line: keeps proxies from timing the stream out and finds clients that left. */
    void heartbeat() throws IOException {
        write(": keep-alive\n\n");
    }

    private void write(String s) throws IOException {
        try {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException | RuntimeException ignored) {
            // the client is gone already
        }
    }
}
