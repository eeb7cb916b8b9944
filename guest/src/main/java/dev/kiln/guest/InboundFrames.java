package dev.kiln.guest;

import java.io.Closeable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What each frame from the agent does, on the reader thread. A frame out of place is a
 * {@link GuestProtocolException} (thrown, so the reader closes the channel); unknown frame types
 * are ignored so that a newer agent can add informational ones.
 */
final class InboundFrames {
    private static final System.Logger LOG = System.getLogger(InboundFrames.class.getName());

    private final GuestChannel channel;
    private final Consumer<GuestLog> logSink;
    private final CompletableFuture<AgentHello> hello = new CompletableFuture<>();
    private final CompletableFuture<HaltResult> halted = new CompletableFuture<>();
    private final List<Consumer<GuestOutput>> outputFollowers = new CopyOnWriteArrayList<>();
    /** Set once the host sent RESTORED: before that an ERROR on stream 0 is only logged. */
    private volatile CompletableFuture<byte[]> restored;

    InboundFrames(GuestChannel channel, Consumer<GuestLog> logSink) {
        this.channel = channel;
        this.logSink = logSink;
    }

    CompletableFuture<AgentHello> hello() {
        return hello;
    }

    CompletableFuture<HaltResult> haltResult() {
        return halted;
    }

    Closeable followOutput(Consumer<GuestOutput> sink) {
        outputFollowers.add(sink);
        return () -> outputFollowers.remove(sink);
    }

    /** The agent's answer to RESTORED (its payload), or its refusal (an ERROR on stream 0). */
    synchronized CompletableFuture<byte[]> expectRestored() {
        if (restored == null || restored.isDone()) restored = new CompletableFuture<>();
        return restored;
    }

    boolean haltAnswered() {
        return halted.isDone();
    }

    void closed(GuestChannelClosedException cause) {
        hello.completeExceptionally(cause);
        halted.completeExceptionally(cause);
        CompletableFuture<byte[]> r = restored;
        if (r != null) r.completeExceptionally(cause);
    }

    void dispatch(Frame f) {
        FrameType type = f.knownType();
        if (type == null) {
            LOG.log(System.Logger.Level.DEBUG, "ignoring an unknown frame from the agent: " + f);
            return;
        }
        if (type == FrameType.API_REQUEST) {
            channel.api().open(f);
            return;
        }
        if (GuestApiStreams.isAgentStream(f.stream())
                && (type == FrameType.DATA || type == FrameType.WINDOW || type == FrameType.CANCEL)) {
            channel.api().onFrame(type, f);
            return;
        }
        switch (type) {
            case HELLO -> {
                if (!hello.isDone()) hello.complete(WireCodec.hello(f.payload()));
            }
            case PING -> {
                if (f.payload().length > 64) throw new GuestProtocolException("PING payload over 64 bytes");
                channel.send(Frame.of(FrameType.PONG, f.stream(), f.payload()));
            }
            case PONG -> channel.onPong(f.payload());
            case LOG -> logSink.accept(WireCodec.log(f.payload()));
            case OUTPUT -> output(f);
            case HALTED -> halted.complete(WireCodec.halted(f.payload()));
            case RESTORED -> {
                CompletableFuture<byte[]> r = restored;
                if (r == null) throw new GuestProtocolException("RESTORED answered, but the host sent none");
                r.complete(f.payload());
            }
            case RESPONSE, CONFIGURED -> head(type, f);
            case DATA -> {
                GuestStream s = channel.streamFor(f);
                if (s == null) return;
                if (!s.head.isDone()) throw new GuestProtocolException("DATA before RESPONSE on stream " + f.stream());
                s.onData(f.payload(), f.end());
            }
            case WINDOW -> {
                long increment = WireCodec.windowIncrement(f.payload());
                GuestStream s = channel.streamFor(f);
                if (s != null) s.onWindow(increment);
            }
            case CANCEL -> {
                GuestStream s = channel.streamFor(f);
                if (s != null) s.fail(new GuestStreamException(WireCodec.cancelReason(f.payload()), "the agent aborted the stream"));
            }
            case ERROR -> error(f);
            default -> throw new GuestProtocolException("the agent may not send " + type);
        }
    }

    private void output(Frame f) {
        if (f.stream() != 0) throw new GuestProtocolException("OUTPUT belongs on stream 0, got stream " + f.stream());
        GuestOutput o = WireCodec.output(f.payload());
        for (Consumer<GuestOutput> sink : outputFollowers) {
            try {
                sink.accept(o);
            } catch (RuntimeException e) {
                // A follower's bug must not close the channel the VM serves requests on.
                LOG.log(System.Logger.Level.WARNING, "an output follower failed; it is dropped", e);
                outputFollowers.remove(sink);
            }
        }
    }

    private void head(FrameType type, Frame f) {
        GuestStream s = channel.streamFor(f);
        if (s == null) return;
        boolean configure = s.kind == GuestStream.Kind.CONFIGURE;
        if ((type == FrameType.CONFIGURED) != configure || s.head.isDone() && !s.head.isCompletedExceptionally()) {
            throw new GuestProtocolException(type + " out of place on stream " + f.stream());
        }
        if (!s.head.complete(f)) return;
        if (f.end() || configure) s.onData(new byte[0], true);
    }

    private void error(Frame f) {
        WireCodec.ErrorPayload e = WireCodec.error(f.payload());
        if (f.stream() == 0) {
            // Stream 0 carries one call that can be refused: RESTORED (the agent answers nothing else there).
            CompletableFuture<byte[]> r = restored;
            if (r != null) r.completeExceptionally(new GuestStreamException(e.code(), e.message()));
            logSink.accept(new GuestLog("error", e.code() + ": " + e.message(), null, null, e.code()));
            return;
        }
        GuestStream s = channel.streamFor(f);
        if (s == null) {
            logSink.accept(new GuestLog("error", e.code() + ": " + e.message() + " (stream " + f.stream() + ")",
                    null, null, e.code()));
        } else if (s.head.isDone()) {
            s.fail(new GuestStreamException(e.code(), e.message()));
        } else {
            // No answer yet: the agent refused this one request, not the connection.
            s.fail(new GuestRequestRefusedException(e.code(), e.message()));
        }
    }
}
