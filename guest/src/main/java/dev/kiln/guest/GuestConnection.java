package dev.kiln.guest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The host's end of the channel to one guest agent (docs/guest-protocol.md): handshake,
 * configuration, many concurrent requests and events on one channel, halt. One reader thread
 * demultiplexes frames into per-stream state; any thread may call any method.
 *
 * <p>When the channel dies every in-flight call fails at once with {@link GuestChannelClosedException}
 * (a {@link GuestProtocolException} if the guest broke the protocol).
 */
public final class GuestConnection implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestConnection.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<Integer> HOST_VERSIONS = List.of(1);
    private static final int MAX_HEADERS = 256;
    private static final AtomicInteger CONNECTIONS = new AtomicInteger();

    /**
     * @param helloTimeout how long {@link #open} waits for the agent's HELLO
     * @param callTimeout  default timeout of requests, events, pings and halts
     * @param keepAlive    PING interval, or null for none; a missing PONG closes the connection
     * @param logSink      receives the agent's LOG frames (tracebacks, program exits)
     */
    public record Options(Duration helloTimeout, Duration callTimeout, Duration keepAlive, Consumer<GuestLog> logSink) {
        public Options {
            helloTimeout = helloTimeout == null ? Duration.ofSeconds(30) : helloTimeout;
            callTimeout = callTimeout == null ? Duration.ofSeconds(60) : callTimeout;
            logSink = logSink == null ? GuestConnection::logToSystemLogger : logSink;
        }

        public static Options defaults() {
            return new Options(null, null, null, null);
        }

        public Options withLogSink(Consumer<GuestLog> sink) {
            return new Options(helloTimeout, callTimeout, keepAlive, sink);
        }

        public Options withCallTimeout(Duration t) {
            return new Options(helloTimeout, t, keepAlive, logSink);
        }

        public Options withHelloTimeout(Duration t) {
            return new Options(t, callTimeout, keepAlive, logSink);
        }

        public Options withKeepAlive(Duration interval) {
            return new Options(helloTimeout, callTimeout, interval, logSink);
        }
    }

    private final ByteChannel channel;
    private final Options options;
    private final FrameWriter writer;
    private final FrameReader reader;
    private final Map<Integer, GuestStream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger lastStreamId = new AtomicInteger(-1);
    private final Semaphore streamSlots = new Semaphore(Integer.MAX_VALUE);
    private final CompletableFuture<AgentHello> hello = new CompletableFuture<>();
    private final CompletableFuture<HaltResult> halted = new CompletableFuture<>();
    private final CompletableFuture<GuestChannelClosedException> closed = new CompletableFuture<>();
    private final Map<Long, CompletableFuture<Long>> pings = new ConcurrentHashMap<>();
    private final AtomicLong pingIds = new AtomicLong();
    private final AtomicReference<GuestChannelClosedException> closedBy = new AtomicReference<>();
    private final Thread readerThread;
    /**
     * Response timeouts. One per connection, not one per process: a scheduler's queue is guarded
     * by a lock, and a shared one would be a lock every request on every VM goes through.
     */
    private final ScheduledThreadPoolExecutor timers = timers();
    private volatile int maxStreams = Integer.MAX_VALUE;

    private GuestConnection(ByteChannel channel, Options options) {
        this.channel = channel;
        this.options = options;
        this.writer = new FrameWriter(channel);
        this.reader = new FrameReader(channel);
        this.readerThread = Thread.ofPlatform().daemon().name("kiln-guest-reader-" + CONNECTIONS.incrementAndGet())
                .unstarted(this::readLoop);
    }

    /** Connects to a Unix socket (QEMU's chardev for the virtio port, or a test's) and shakes hands. */
    public static GuestConnection connect(Path unixSocket, Options options) throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(unixSocket));
        try {
            return open(ch, options);
        } catch (RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Shakes hands over an already connected byte stream: asks the agent to announce itself and
     * waits for its HELLO. The connection owns the channel from here on.
     */
    public static GuestConnection open(ByteChannel channel, Options options) {
        GuestConnection c = new GuestConnection(channel, Objects.requireNonNull(options, "options"));
        c.readerThread.start();
        try {
            c.send(Frame.of(FrameType.HELLO, 0, json(Map.of("versions", HOST_VERSIONS))));
            AgentHello h = c.await(c.hello, options.helloTimeout(), "the agent's HELLO");
            if (h.versions().stream().noneMatch(HOST_VERSIONS::contains)) {
                throw c.fatal(new GuestProtocolException("agent speaks protocol versions " + h.versions()
                        + ", host speaks " + HOST_VERSIONS));
            }
            c.maxStreams = h.maxStreams();
            c.streamSlots.drainPermits();
            c.streamSlots.release(h.maxStreams());
            if (options.keepAlive() != null) Thread.ofVirtual().name("kiln-guest-keepalive").start(c::keepAlive);
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public static GuestConnection open(ByteChannel channel) {
        return open(channel, Options.defaults());
    }

    public AgentHello hello() {
        return hello.join();
    }

    /**
     * Completes, never exceptionally, with the reason once the channel is closed for whatever
     * reason (EOF, I/O error, protocol violation, keep-alive, halt, {@link #close()}): the VM
     * driver watches it to notice a guest that is gone.
     */
    public CompletableFuture<GuestChannelClosedException> closed() {
        return closed.copy();
    }

    public boolean isOpen() {
        return closedBy.get() == null;
    }

    /** Streams currently open (requests, events, configure). */
    public int inFlight() {
        return streams.size();
    }

    // ------------------------------------------------------------------ configure

    /** Configures the program, waiting up to its startup timeout plus 30 s. */
    public Configured configure(ProgramConfig config) {
        return configure(config, config.startupTimeout().plusSeconds(30));
    }

    public Configured configure(ProgramConfig config, Duration timeout) {
        List<Attachment> attachments = config.attachments();
        GuestStream stream = openStream("configure");
        send(Frame.of(FrameType.CONFIGURE, attachments.isEmpty() ? Frame.FLAG_END : 0, stream.id, json(config.toWire())));
        if (!attachments.isEmpty()) {
            Thread.ofVirtual().name("kiln-guest-attachments").start(() -> upload(stream, attachments));
        }
        Frame result;
        try {
            result = await(stream.head, timeout, "the configuration result");
        } catch (GuestTimeoutException e) {
            cancel(stream, "timeout");
            throw e;
        }
        JsonNode r = parseObject(result.payload(), "CONFIGURED");
        if (!r.path("ok").asBoolean(false)) {
            throw new GuestConfigureException(r.path("code").asText("internal"), r.path("message").asText(""),
                    r.hasNonNull("traceback") ? r.get("traceback").asText() : null);
        }
        List<Configured.Skipped> skipped = new ArrayList<>();
        for (JsonNode s : r.path("skipped")) skipped.add(new Configured.Skipped(s.path("step").asText(), s.path("reason").asText()));
        return new Configured(r.path("interface").asText(), r.hasNonNull("lifespan") ? r.get("lifespan").asText() : null,
                r.hasNonNull("port") ? r.get("port").asInt() : null, List.copyOf(skipped),
                r.path("timings").path("configure").asDouble());
    }

    private void upload(GuestStream stream, List<Attachment> attachments) {
        try {
            for (int i = 0; i < attachments.size(); i++) {
                try (InputStream in = attachments.get(i).open()) {
                    if (!sendBody(stream, in, i == attachments.size() - 1)) return;
                }
            }
        } catch (IOException e) {
            cancel(stream, "attachment read failed");
            stream.fail(new GuestException("reading a configuration attachment failed: " + e.getMessage(), e));
        } catch (GuestException e) {
            stream.fail(e);
        }
    }

    // ------------------------------------------------------------------ requests and events

    /** Sends a request and waits for the response head (the body streams on). */
    public GuestResponse request(GuestRequest request) {
        Duration timeout = request.timeout() != null ? request.timeout() : options.callTimeout();
        return await(requestAsync(request), timeout.plusSeconds(1), "the response");
    }

    /**
     * Sends a request; the future completes with the response head, or fails with
     * {@link GuestTimeoutException} (the stream is then cancelled on the agent),
     * {@link GuestStreamException} or {@link GuestChannelClosedException}. Blocks only while the
     * agent's limit of concurrent streams is reached.
     */
    public CompletableFuture<GuestResponse> requestAsync(GuestRequest request) {
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("method", request.method());
        head.put("path", request.path());
        head.put("query", request.query());
        List<List<String>> headers = new ArrayList<>();
        for (Header h : request.headers()) headers.add(List.of(h.name(), h.value()));
        head.put("headers", headers);
        head.put("scheme", request.scheme());
        if (request.clientHost() != null) head.put("client", List.of(request.clientHost(), request.clientPort()));
        if (request.requestId() != null) head.put("request_id", request.requestId());
        InputStream body = request.body();
        byte[] payload = json(head);
        GuestStream stream = openStream("request");
        send(Frame.of(FrameType.REQUEST, body == null ? Frame.FLAG_END : 0, stream.id, payload));
        if (body != null) Thread.ofVirtual().name("kiln-guest-body-" + stream.id).start(() -> {
            try (body) {
                sendBody(stream, body, true);
            } catch (IOException e) {
                cancel(stream, "request body read failed");
                stream.fail(new GuestException("reading the request body failed: " + e.getMessage(), e));
            } catch (GuestException e) {
                stream.fail(e);
            }
        });
        return responseOf(stream, request.timeout() != null ? request.timeout() : options.callTimeout());
    }

    /** Delivers an aleph message (its JSON) to the program; answered like a request. */
    public GuestResponse event(String messageJson, Duration timeout) {
        JsonNode message;
        try {
            message = JSON.readTree(messageJson);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the message is not JSON: " + e.getOriginalMessage(), e);
        }
        if (message == null || !message.isObject()) throw new IllegalArgumentException("the message must be a JSON object");
        ObjectNode event = JSON.createObjectNode().put("type", "message");
        event.set("message", message);
        GuestStream stream = openStream("event");
        send(Frame.of(FrameType.EVENT, Frame.FLAG_END, stream.id, json(event)));
        return await(responseOf(stream, timeout), timeout.plusSeconds(1), "the event's response");
    }

    private CompletableFuture<GuestResponse> responseOf(GuestStream stream, Duration timeout) {
        ScheduledFuture<?> timer;
        try {
            timer = timers.schedule(() -> {
                if (stream.head.completeExceptionally(new GuestTimeoutException("no response within " + timeout))) {
                    cancel(stream, "timeout");
                }
            }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closedMeanwhile) {
            GuestChannelClosedException cause = closedBy.get();
            stream.fail(cause != null ? cause : new GuestChannelClosedException("the guest channel is closed"));
            return stream.head.thenApply(frame -> toResponse(stream, frame));
        }
        // Removed as soon as the head arrives: at thousands of requests/s, expired-late timers would pile up.
        stream.head.whenComplete((f, e) -> timer.cancel(false));
        CompletableFuture<GuestResponse> response = stream.head.thenApply(frame -> toResponse(stream, frame));
        // Cancelling the caller's future cancels the stream on the agent too.
        response.whenComplete((r, e) -> {
            if (e instanceof CancellationException) cancel(stream, "cancelled by the host");
        });
        return response;
    }

    private GuestResponse toResponse(GuestStream stream, Frame frame) {
        JsonNode h = parseObject(frame.payload(), "RESPONSE");
        int status = h.path("status").asInt(-1);
        JsonNode hs = h.path("headers");
        if (status < 100 || status > 599 || !hs.isArray() || hs.size() > MAX_HEADERS) {
            throw fatal(new GuestProtocolException("bad RESPONSE head on stream " + stream.id));
        }
        List<Header> headers = new ArrayList<>(hs.size());
        for (JsonNode pair : hs) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual() || !pair.get(1).isTextual()) {
                throw fatal(new GuestProtocolException("bad RESPONSE header on stream " + stream.id));
            }
            headers.add(new Header(pair.get(0).asText(), pair.get(1).asText()));
        }
        return new GuestResponse(this, stream, status, headers);
    }

    /** Streams a body as DATA frames within the agent's window; false if the stream ended first. */
    private boolean sendBody(GuestStream stream, InputStream in, boolean endStream) throws IOException {
        byte[] buf = new byte[Frame.CHUNK];
        boolean exactLength = in instanceof ByteArrayInputStream;
        while (true) {
            int n = in.read(buf);
            if (n < 0) {
                if (endStream) send(Frame.of(FrameType.DATA, Frame.FLAG_END, stream.id, new byte[0]));
                return true;
            }
            boolean last = endStream && exactLength && in.available() == 0;
            int off = 0;
            while (off < n) {
                int granted = stream.takeCredit(n - off);
                if (granted == 0) return false;
                byte[] chunk = java.util.Arrays.copyOfRange(buf, off, off + granted);
                off += granted;
                send(Frame.of(FrameType.DATA, last && off == n ? Frame.FLAG_END : 0, stream.id, chunk));
            }
            if (last) return true;
        }
    }

    // ------------------------------------------------------------------ control

    /** Round trip of a PING; also a liveness check. */
    public Duration ping(Duration timeout) {
        long id = pingIds.incrementAndGet();
        CompletableFuture<Long> pong = new CompletableFuture<>();
        pings.put(id, pong);
        long start = System.nanoTime();
        try {
            send(Frame.of(FrameType.PING, 0, ByteBuffer.allocate(8).putLong(id).array()));
            await(pong, timeout, "PONG");
            return Duration.ofNanos(System.nanoTime() - start);
        } finally {
            pings.remove(id);
        }
    }

    /**
     * Asks the agent to stop: open streams get up to {@code grace} to finish, the program's shutdown
     * runs (ASGI lifespan shutdown, SIGTERM to an executable), then the agent answers and exits (or
     * powers the VM off). The connection closes right after.
     */
    public HaltResult halt(Duration grace, Duration timeout) {
        send(Frame.of(FrameType.HALT, 0, json(Map.of("grace_seconds", Math.max(0, Math.min(120, grace.toSeconds()))))));
        HaltResult r = await(halted, timeout, "HALTED");
        close("halted");
        return r;
    }

    @Override
    public void close() {
        close("closed by the host");
    }

    private void close(String why) {
        fatal(new GuestChannelClosedException("guest channel " + why));
    }

    // ------------------------------------------------------------------ internals

    private GuestStream openStream(String kind) {
        failIfClosed();
        try {
            streamSlots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted while waiting for a free stream", e);
        }
        int id = lastStreamId.addAndGet(2);
        if (id < 0) {
            streamSlots.release();
            throw new GuestException("stream ids exhausted on this connection: reconnect");
        }
        GuestStream stream = new GuestStream(this, id, kind);
        streams.put(id, stream);
        GuestChannelClosedException closed = closedBy.get();
        if (closed != null) stream.fail(closed);
        return stream;
    }

    void release(GuestStream stream) {
        if (stream.markReleased()) {
            streams.remove(stream.id, stream);
            streamSlots.release();
        }
    }

    void cancel(GuestStream stream, String reason) {
        if (stream.ended()) return;
        stream.fail(new GuestStreamException("cancelled", reason));
        if (isOpen()) {
            try {
                send(Frame.of(FrameType.CANCEL, stream.id, json(Map.of("reason", reason))));
            } catch (GuestChannelClosedException ignored) {
                // the stream is failed locally already
            }
        }
    }

    void sendWindow(int streamId, long increment) {
        try {
            send(Frame.of(FrameType.WINDOW, streamId, ByteBuffer.allocate(4).putInt((int) increment).array()));
        } catch (GuestChannelClosedException ignored) {
            // the reader of this body sees the closure on its next chunk
        }
    }

    void send(Frame frame) {
        failIfClosed();
        try {
            writer.write(frame);
        } catch (IOException e) {
            throw fatal(new GuestChannelClosedException("writing to the guest channel failed: " + e.getMessage(), e));
        }
    }

    /** For tests of the agent's robustness: bytes no correct writer would produce. */
    void sendRaw(byte[] bytes) {
        try {
            writer.writeRaw(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw fatal(new GuestChannelClosedException("writing to the guest channel failed: " + e.getMessage(), e));
        }
    }

    private void failIfClosed() {
        GuestChannelClosedException e = closedBy.get();
        if (e != null) throw new GuestChannelClosedException(e.getMessage(), e);
    }

    /** Closes the channel once and fails everything that waits on it. Returns the cause for throwing. */
    private GuestChannelClosedException fatal(GuestChannelClosedException cause) {
        if (!closedBy.compareAndSet(null, cause)) return closedBy.get();
        if (cause instanceof GuestProtocolException) {
            LOG.log(System.Logger.Level.WARNING, "closing the guest channel: " + cause.getMessage());
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort; the reader stops on the closed channel either way
        }
        hello.completeExceptionally(cause);
        halted.completeExceptionally(cause);
        closed.complete(cause);
        timers.shutdownNow();
        pings.values().forEach(p -> p.completeExceptionally(cause));
        for (GuestStream s : List.copyOf(streams.values())) s.fail(cause);
        return cause;
    }

    private <T> T await(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new GuestTimeoutException("no " + what + " within " + timeout);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof GuestChannelClosedException cc) throw new GuestChannelClosedException(cc.getMessage(), cc);
            if (c instanceof GuestException ge) throw ge;
            if (c instanceof RuntimeException re) throw re;
            throw new GuestException(what + " failed: " + c, c);
        } catch (CancellationException e) {
            throw new GuestStreamException("cancelled", what + " was cancelled");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted while waiting for " + what, e);
        }
    }

    private void keepAlive() {
        Duration interval = options.keepAlive();
        while (isOpen()) {
            try {
                Thread.sleep(interval);
                ping(interval);
            } catch (InterruptedException e) {
                return;
            } catch (GuestTimeoutException e) {
                fatal(new GuestChannelClosedException("keep-alive: no PONG within " + interval));
            } catch (GuestChannelClosedException e) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------ reader

    private void readLoop() {
        try {
            while (true) {
                Frame f = reader.read();
                if (f == null) {
                    fatal(new GuestChannelClosedException(halted.isDone() ? "guest channel closed after halt"
                            : "the agent closed the guest channel"));
                    return;
                }
                dispatch(f);
            }
        } catch (GuestChannelClosedException e) {
            fatal(e);
        } catch (IOException e) {
            fatal(new GuestChannelClosedException("reading the guest channel failed: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            fatal(new GuestProtocolException("unexpected frame from the agent: " + e));
        }
    }

    private void dispatch(Frame f) {
        FrameType type = f.knownType();
        if (type == null) {
            LOG.log(System.Logger.Level.DEBUG, "ignoring an unknown frame from the agent: " + f);
            return;
        }
        switch (type) {
            case HELLO -> {
                if (!hello.isDone()) hello.complete(parseHello(parseObject(f.payload(), "HELLO")));
            }
            case PING -> {
                if (f.payload().length > 64) throw new GuestProtocolException("PING payload over 64 bytes");
                send(Frame.of(FrameType.PONG, f.stream(), f.payload()));
            }
            case PONG -> {
                if (f.payload().length == 8) {
                    CompletableFuture<Long> p = pings.get(ByteBuffer.wrap(f.payload()).getLong());
                    if (p != null) p.complete(0L);
                }
            }
            case LOG -> options.logSink().accept(parseLog(parseObject(f.payload(), "LOG")));
            case HALTED -> halted.complete(parseHalted(parseObject(f.payload(), "HALTED")));
            case RESPONSE, CONFIGURED -> {
                GuestStream s = streamFor(f);
                if (s == null) return;
                boolean configure = s.kind.equals("configure");
                if ((type == FrameType.CONFIGURED) != configure || s.head.isDone() && !s.head.isCompletedExceptionally()) {
                    throw new GuestProtocolException(type + " out of place on stream " + f.stream());
                }
                if (!s.head.complete(f)) return;
                if (f.end() || configure) s.onData(new byte[0], true);
            }
            case DATA -> {
                GuestStream s = streamFor(f);
                if (s == null) return;
                if (!s.head.isDone()) throw new GuestProtocolException("DATA before RESPONSE on stream " + f.stream());
                s.onData(f.payload(), f.end());
            }
            case WINDOW -> {
                if (f.payload().length != 4) throw new GuestProtocolException("WINDOW payload must be 4 bytes");
                GuestStream s = streamFor(f);
                if (s != null) s.onWindow(Integer.toUnsignedLong(ByteBuffer.wrap(f.payload()).getInt()));
            }
            case CANCEL -> {
                GuestStream s = streamFor(f);
                if (s != null) {
                    JsonNode c = parseObject(f.payload(), "CANCEL");
                    s.fail(new GuestStreamException(c.path("reason").asText("cancelled"), "the agent aborted the stream"));
                }
            }
            case ERROR -> {
                JsonNode e = parseObject(f.payload(), "ERROR");
                String code = e.path("code").asText("error");
                String message = e.path("message").asText("");
                if (f.stream() == 0) {
                    options.logSink().accept(new GuestLog("error", code + ": " + message, null, null, code));
                    return;
                }
                GuestStream s = streamFor(f);
                if (s != null) s.fail(new GuestStreamException(code, message));
                else options.logSink().accept(new GuestLog("error", code + ": " + message + " (stream " + f.stream() + ")",
                        null, null, code));
            }
            default -> throw new GuestProtocolException("the agent may not send " + type);
        }
    }

    /** The open stream a frame belongs to; null for late frames of a finished stream (normal after a cancel). */
    private GuestStream streamFor(Frame f) {
        int id = f.stream();
        if (id <= 0 || id % 2 == 0 || id > lastStreamId.get()) {
            throw new GuestProtocolException("frame for stream " + id + ", which the host never opened");
        }
        return streams.get(id);
    }

    private static JsonNode parseObject(byte[] payload, String what) {
        try {
            JsonNode n = JSON.readTree(payload);
            if (n == null || !n.isObject()) throw new GuestProtocolException(what + " payload is not a JSON object");
            return n;
        } catch (IOException e) {
            throw new GuestProtocolException(what + " payload is not valid JSON");
        }
    }

    private static AgentHello parseHello(JsonNode h) {
        List<Integer> versions = new ArrayList<>();
        for (JsonNode v : h.path("versions")) versions.add(v.asInt());
        LinkedHashSet<String> caps = new LinkedHashSet<>();
        for (JsonNode c : h.path("capabilities")) caps.add(c.asText());
        JsonNode boot = h.path("boot");
        int maxStreams = h.path("max_streams").asInt(0);
        if (maxStreams < 1 || maxStreams > 65536) throw new GuestProtocolException("HELLO max_streams out of range");
        return new AgentHello(List.copyOf(versions), text(h, "agent"), text(h.path("runtime"), "name"),
                text(h.path("runtime"), "hash"), text(h, "python"), java.util.Collections.unmodifiableSet(caps),
                h.path("system").asBoolean(), h.path("pid1").asBoolean(), maxStreams, h.path("max_frame").asInt(),
                h.path("initial_window").asInt(), h.path("configured").asBoolean(),
                new BootTimings(number(boot, "init0_start"), number(boot, "init0_exec"), number(boot, "init1_start"),
                        number(boot, "init1_ready")));
    }

    private static GuestLog parseLog(JsonNode l) {
        return new GuestLog(text(l, "level"), text(l, "message"), text(l, "request_id"), text(l, "traceback"), text(l, "kind"));
    }

    private static HaltResult parseHalted(JsonNode h) {
        return new HaltResult(h.path("ok").asBoolean(), text(h, "shutdown"), text(h, "message"),
                h.path("cancelled_streams").asInt());
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isNumber() ? null : v.asDouble();
    }

    static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + value, e);
        }
    }

    private static ScheduledThreadPoolExecutor timers() {
        // A virtual thread: an idle connection's timer costs no platform thread.
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofVirtual().name("kiln-guest-timer").factory());
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    private static void logToSystemLogger(GuestLog log) {
        System.Logger.Level level = "error".equals(log.level()) ? System.Logger.Level.WARNING : System.Logger.Level.INFO;
        LOG.log(level, "guest: " + log.message() + (log.requestId() != null ? " [request " + log.requestId() + "]" : "")
                + (log.traceback() != null ? "\n" + log.traceback() : ""));
    }
}
