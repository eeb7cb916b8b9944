package dev.kiln.node.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The remote's message stream: aleph's WebSocket feed {@code <remote>/api/ws0/messages}, one JSON
 * message per text frame, over the JDK's WebSocket client. Reconnects after any close or failure
 * with exponential backoff ({@code firstBackoff} doubling to {@code maxBackoff}; reset once a
 * connection delivers a message), asking each time for messages since the last one seen
 * ({@code startDate}, whole seconds, so a message at the boundary may come twice: delivery is
 * at-least-once anyway). Chain confirmation notices (no {@code item_type}) are skipped, as
 * aleph-vm does. Every other frame goes to the consumer, which verifies it like a posted message.
 */
public final class AlephMessageFeed implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AlephMessageFeed.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A frame larger than any message the node accepts is not buffered past this. */
    private static final int MAX_FRAME_CHARS = InboundMessage.MAX_BYTES + 1024;

    /** What /about/deliveries shows of the feed. */
    public record Status(String url, boolean connected, long connections, long received, long skipped, String lastError) {
    }

    private final URI endpoint;
    private final Consumer<String> sink;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private volatile boolean connected;
    private volatile String lastError;
    private volatile long sinceEpochSeconds = Instant.now().getEpochSecond();
    private volatile boolean closed;
    private volatile WebSocket socket;
    private Thread loop;

    /**
     * @param remote the aleph API's base URL (http or https); the feed is its ws/wss twin
     * @param sink   called with each message frame's text, on the feed's thread, in order
     */
    public AlephMessageFeed(URI remote, Consumer<String> sink, Duration firstBackoff, Duration maxBackoff) {
        this.endpoint = feedUri(remote);
        this.sink = sink;
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
    }

    /** {@code http://host/x} → {@code ws://host/x/api/ws0/messages}; https → wss. */
    static URI feedUri(URI remote) {
        String scheme = switch (remote.getScheme() == null ? "" : remote.getScheme()) {
            case "http", "ws" -> "ws";
            case "https", "wss" -> "wss";
            default -> throw new IllegalArgumentException("the remote " + remote + " is not an http(s) URL");
        };
        String base = remote.toString().substring(remote.getScheme().length());
        if (base.endsWith("/")) base = base.substring(0, base.length() - 1);
        return URI.create(scheme + base + "/api/ws0/messages");
    }

    public AlephMessageFeed start() {
        loop = Thread.ofVirtual().name("kiln-message-feed").start(this::run);
        return this;
    }

    public Status status() {
        return new Status(endpoint.toString(), connected, connections.get(), received.get(), skipped.get(), lastError);
    }

    private void run() {
        Duration backoff = firstBackoff;
        while (!closed) {
            long before = received.get();
            try {
                session();
            } catch (InterruptedException e) {
                return;
            } catch (ExecutionException | RuntimeException e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                lastError = cause.getClass().getSimpleName() + ": " + cause.getMessage();
            }
            connected = false;
            if (closed) return;
            if (received.get() > before) backoff = firstBackoff;
            LOG.log(System.Logger.Level.INFO, "message feed " + endpoint + " disconnected" + (lastError == null ? ""
                    : " (" + lastError + ")") + "; reconnecting in " + backoff.toMillis() + " ms");
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        }
    }

    /** One connection, until it closes or fails. */
    private void session() throws InterruptedException, ExecutionException {
        CompletableFuture<Void> ended = new CompletableFuture<>();
        URI uri = URI.create(endpoint + "?startDate=" + sinceEpochSeconds);
        WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(uri, new Listener(ended)).get();
        socket = ws;
        connected = true;
        lastError = null;
        connections.incrementAndGet();
        LOG.log(System.Logger.Level.INFO, "message feed connected: " + uri);
        try {
            ended.get();
        } finally {
            socket = null;
            if (!ws.isOutputClosed()) ws.abort();
        }
    }

    private void handle(String text) {
        JsonNode tree;
        try {
            tree = JSON.readTree(text);
        } catch (java.io.IOException e) {
            tree = null; // the consumer gives the precise error
        }
        if (tree != null && tree.isObject() && !tree.has("item_type") && tree.has("item_hash")) {
            skipped.incrementAndGet(); // a confirmation notice, not a message
            return;
        }
        received.incrementAndGet();
        JsonNode t = tree == null ? null : tree.get("time");
        if (t != null && t.isNumber()) sinceEpochSeconds = Math.max(sinceEpochSeconds, (long) Math.floor(t.asDouble()));
        try {
            sink.accept(text);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "a message from the feed could not be handled", e);
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final CompletableFuture<Void> ended;
        private final StringBuilder partial = new StringBuilder();
        private boolean oversized;

        Listener(CompletableFuture<Void> ended) {
            this.ended = ended;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            if (!oversized) {
                if (partial.length() + data.length() > MAX_FRAME_CHARS) {
                    oversized = true;
                    partial.setLength(0);
                } else {
                    partial.append(data);
                }
            }
            if (last) {
                if (oversized) {
                    received.incrementAndGet();
                    LOG.log(System.Logger.Level.WARNING, "a message from the feed is over " + InboundMessage.MAX_BYTES / 1024
                            + " KiB; skipped");
                } else {
                    handle(partial.toString());
                }
                partial.setLength(0);
                oversized = false;
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, java.nio.ByteBuffer data, boolean last) {
            ws.request(1); // aleph sends text frames only
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            lastError = "closed by the remote (" + statusCode + (reason == null || reason.isEmpty() ? "" : " " + reason) + ")";
            ended.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            lastError = error.getClass().getSimpleName() + ": " + error.getMessage();
            ended.complete(null);
        }
    }

    @Override
    public void close() {
        closed = true;
        WebSocket ws = socket;
        if (ws != null) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "node stopping").get(1, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                ws.abort();
            }
        }
        if (loop != null) loop.interrupt();
    }
}
