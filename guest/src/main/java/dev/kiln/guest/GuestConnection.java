package dev.kiln.guest;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The host's end of the channel to one guest agent (docs/guest-protocol.md): handshake,
 * configuration, many concurrent requests and events on one channel, halt. Any thread may call any
 * method. The work is done by the {@link GuestChannel} (frames, streams, windows, the reader), the
 * calls ({@link ConfigureCall}, {@link RequestCalls}) and the {@link WireCodec} (payloads).
 *
 * <p>When the channel dies every in-flight call fails at once with {@link GuestChannelClosedException}
 * (a {@link GuestProtocolException} if the guest broke the protocol, a
 * {@link GuestChannelExhaustedException} once the stream ids are used up). A refusal of one request
 * is a {@link GuestRequestRefusedException}: the connection stays usable.
 */
public final class GuestConnection implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestConnection.class.getName());

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

    private final GuestChannel channel;
    private final Options options;
    private final RequestCalls requests;

    private GuestConnection(ByteChannel channel, Options options, int maxStreamId) {
        this.channel = new GuestChannel(channel, options.logSink(), maxStreamId);
        this.options = options;
        this.requests = new RequestCalls(this.channel);
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
        return open(channel, options, Integer.MAX_VALUE);
    }

    public static GuestConnection open(ByteChannel channel) {
        return open(channel, Options.defaults());
    }

    /** With a smaller stream id space, for tests of its exhaustion. */
    static GuestConnection open(ByteChannel channel, Options options, int maxStreamId) {
        GuestConnection c = new GuestConnection(channel, Objects.requireNonNull(options, "options"), maxStreamId);
        c.channel.start();
        try {
            c.channel.send(Frame.of(FrameType.HELLO, 0, WireCodec.hostHello()));
            AgentHello h = Await.await(c.channel.inbound().hello(), options.helloTimeout(), "the agent's HELLO");
            if (h.versions().stream().noneMatch(WireCodec.HOST_VERSIONS::contains)) {
                throw c.channel.fatal(new GuestProtocolException("agent speaks protocol versions " + h.versions()
                        + ", host speaks " + WireCodec.HOST_VERSIONS));
            }
            c.channel.limitStreams(h.maxStreams());
            c.requests.limitUploads(h.maxStreams());
            if (options.keepAlive() != null) KeepAlive.start(c.channel, options.keepAlive());
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public AgentHello hello() {
        return channel.inbound().hello().join();
    }

    /**
     * Completes, never exceptionally, with the reason once the channel is closed for whatever
     * reason (EOF, I/O error, protocol violation, keep-alive, stream ids used up, halt,
     * {@link #close()}): the VM driver watches it to notice a guest that is gone.
     */
    public CompletableFuture<GuestChannelClosedException> closed() {
        return channel.closed();
    }

    public boolean isOpen() {
        return channel.isOpen();
    }

    /** Streams currently open (requests, events, configure). */
    public int inFlight() {
        return channel.inFlight();
    }

    /** Configures the program, waiting up to its startup timeout plus 30 s. */
    public Configured configure(ProgramConfig config) {
        return configure(config, config.startupTimeout().plusSeconds(30));
    }

    public Configured configure(ProgramConfig config, Duration timeout) {
        return ConfigureCall.run(channel, config, timeout);
    }

    /**
     * Tells the agent of a VM restored from a snapshot that it is a copy, and waits until it has
     * refreshed its randomness, clock and identity; send before any request. A refusal (an agent
     * that cannot) is a {@link GuestStreamException}; the caller should then not use this VM.
     */
    public Restored restored(RestoreNotice notice, Duration timeout) {
        if (!hello().can("restore")) {
            throw new GuestStreamException("unsupported", "the agent " + hello().agent() + " cannot refresh a restored copy");
        }
        return RestoreCall.run(channel, notice, timeout);
    }

    /** Sends a request and waits for the response head (the body streams on). */
    public GuestResponse request(GuestRequest request) {
        Duration timeout = timeoutOf(request);
        return Await.await(requests.request(request, timeout), timeout.plusSeconds(1), "the response");
    }

    /**
     * Sends a request; the future completes with the response head, or fails with
     * {@link GuestTimeoutException} (the stream is then cancelled on the agent),
     * {@link GuestStreamException} (a {@link GuestRequestRefusedException} if the agent refused it,
     * a {@link GuestRequestBodyException} if its body could not be read) or
     * {@link GuestChannelClosedException}. Throws a refusal the host can tell without asking (too
     * many headers, too many bodies uploading). Blocks only while the agent's limit of concurrent
     * streams is reached.
     */
    public CompletableFuture<GuestResponse> requestAsync(GuestRequest request) {
        return requests.request(request, timeoutOf(request));
    }

    /** Delivers an aleph message (its JSON) to the program; answered like a request. */
    public GuestResponse event(String messageJson, Duration timeout) {
        return Await.await(requests.event(messageJson, timeout), timeout.plusSeconds(1), "the event's response");
    }

    /** Round trip of a PING; also a liveness check. */
    /**
     * Serves the guest API of this VM with {@code handler} (null: refuse it, the default): each
     * API stream the agent opens is answered by it (docs/guest-protocol.md §6.6).
     */
    public void serveApi(GuestApiHandler handler) {
        channel.api().serve(handler);
    }

    public Duration ping(Duration timeout) {
        return channel.ping(timeout);
    }

    /**
     * Asks the agent to stop: open streams get up to {@code grace} to finish, the program's shutdown
     * runs (ASGI lifespan shutdown, SIGTERM to an executable), then the agent answers and exits (or
     * powers the VM off). The connection closes right after.
     */
    /**
     * Calls {@code sink} with each OUTPUT frame (the program's stdout and stderr) on the reader
     * thread, so the sink must only hand the lines over, until the handle is closed.
     */
    public java.io.Closeable followOutput(java.util.function.Consumer<GuestOutput> sink) {
        return channel.inbound().followOutput(sink);
    }

    public HaltResult halt(Duration grace, Duration timeout) {
        channel.send(Frame.of(FrameType.HALT, 0, WireCodec.halt(grace)));
        HaltResult r = Await.await(channel.inbound().haltResult(), timeout, "HALTED");
        channel.close("halted");
        return r;
    }

    @Override
    public void close() {
        channel.close("closed by the host");
    }

    /** For tests of the agent's robustness: bytes no correct writer would produce. */
    void sendRaw(byte[] bytes) {
        channel.sendRaw(bytes);
    }

    private Duration timeoutOf(GuestRequest request) {
        return request.timeout() != null ? request.timeout() : options.callTimeout();
    }

    private static void logToSystemLogger(GuestLog log) {
        System.Logger.Level level = "error".equals(log.level()) ? System.Logger.Level.WARNING : System.Logger.Level.INFO;
        LOG.log(level, "guest: " + log.message() + (log.requestId() != null ? " [request " + log.requestId() + "]" : "")
                + (log.traceback() != null ? "\n" + log.traceback() : ""));
    }
}
