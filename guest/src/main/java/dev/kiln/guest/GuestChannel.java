package dev.kiln.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Frames and streams on one byte channel (docs/guest-protocol.md §1–§3): writes whole frames,
 * allocates stream ids, bounds open streams to the agent's {@code max_streams}, runs the reader
 * thread and closes everything at once when the channel dies. It knows frame kinds but not what
 * calls mean; {@link InboundFrames} decides what each frame from the agent does.
 */
final class GuestChannel {
    private static final System.Logger LOG = System.getLogger(GuestChannel.class.getName());
    private static final AtomicInteger CHANNELS = new AtomicInteger();

    private final ByteChannel channel;
    private final FrameWriter writer;
    private final FrameReader reader;
    private final Map<Integer, GuestStream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger lastStreamId = new AtomicInteger(-1);
    /** The highest id this channel may use; below {@link Integer#MAX_VALUE} only in tests. */
    private final int maxStreamId;
    private final Semaphore streamSlots = new Semaphore(Integer.MAX_VALUE);
    private final Map<Long, CompletableFuture<Long>> pings = new ConcurrentHashMap<>();
    private final AtomicLong pingIds = new AtomicLong();
    private final AtomicReference<GuestChannelClosedException> closedBy = new AtomicReference<>();
    private final CompletableFuture<GuestChannelClosedException> closed = new CompletableFuture<>();
    private final InboundFrames inbound;
    private final GuestApiStreams api = new GuestApiStreams(this);
    private final Thread readerThread;
    /**
     * Response timeouts. One per channel, not one per process: a scheduler's queue is guarded by a
     * lock, and a shared one would be a lock every request on every VM goes through.
     */
    private final ScheduledThreadPoolExecutor timers = timers();

    GuestChannel(ByteChannel channel, Consumer<GuestLog> logSink, int maxStreamId) {
        this.channel = channel;
        this.writer = new FrameWriter(channel);
        this.reader = new FrameReader(channel);
        this.maxStreamId = maxStreamId;
        this.inbound = new InboundFrames(this, logSink);
        this.readerThread = Thread.ofPlatform().daemon().name("kiln-guest-reader-" + CHANNELS.incrementAndGet())
                .unstarted(this::readLoop);
    }

    void start() {
        readerThread.start();
    }

    InboundFrames inbound() {
        return inbound;
    }

    GuestApiStreams api() {
        return api;
    }

    /** From the agent's HELLO on: no more open streams than it accepts, so it never refuses one for that. */
    void limitStreams(int maxStreams) {
        streamSlots.drainPermits();
        streamSlots.release(maxStreams);
    }

    boolean isOpen() {
        return closedBy.get() == null;
    }

    CompletableFuture<GuestChannelClosedException> closed() {
        return closed.copy();
    }

    int inFlight() {
        return streams.size();
    }

    // ------------------------------------------------------------------ streams

    /** A new stream; blocks while the agent's limit of open streams is reached. */
    GuestStream openStream(GuestStream.Kind kind) {
        failIfClosed();
        try {
            streamSlots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted while waiting for a free stream", e);
        }
        int id = lastStreamId.addAndGet(2);
        if (id < 0 || id > maxStreamId) {
            streamSlots.release();
            throw Await.again(fatal(new GuestChannelExhaustedException("guest channel used its last stream id ("
                    + maxStreamId + "): this connection cannot carry more requests; connect again")));
        }
        GuestStream stream = new GuestStream(this, id, kind);
        streams.put(id, stream);
        GuestChannelClosedException cause = closedBy.get();
        if (cause != null) stream.fail(cause);
        return stream;
    }

    void release(GuestStream stream) {
        if (stream.markReleased()) {
            streams.remove(stream.id, stream);
            streamSlots.release();
        }
    }

    /** Ends a stream on both sides: it fails here at once with {@code failure}, the agent gets CANCEL. */
    void cancel(GuestStream stream, String reason, GuestStreamException failure) {
        if (stream.ended()) return;
        stream.fail(failure);
        if (isOpen()) {
            try {
                send(Frame.of(FrameType.CANCEL, stream.id, WireCodec.cancel(reason)));
            } catch (GuestChannelClosedException ignored) {
                // the stream is failed locally already
            }
        }
    }

    void cancel(GuestStream stream, String reason) {
        cancel(stream, reason, new GuestStreamException("cancelled", reason));
    }

    /** CANCEL on a stream the host does not track as a {@link GuestStream} (an API stream). */
    void sendCancel(int streamId, String reason) {
        try {
            send(Frame.of(FrameType.CANCEL, streamId, WireCodec.cancel(reason)));
        } catch (GuestChannelClosedException ignored) {
            // nothing to cancel on a closed channel
        }
    }

    void sendWindow(int streamId, long increment) {
        try {
            send(Frame.of(FrameType.WINDOW, streamId, WireCodec.window(increment)));
        } catch (GuestChannelClosedException ignored) {
            // the reader of this body sees the closure on its next chunk
        }
    }

    /**
     * The open stream a frame from the agent belongs to; null for late frames of a finished stream
     * (normal after a cancel). A stream the host never opened is a protocol violation.
     */
    GuestStream streamFor(Frame f) {
        int id = f.stream();
        if (id <= 0 || id % 2 == 0 || id > lastStreamId.get()) {
            throw new GuestProtocolException("frame for stream " + id + ", which the host never opened");
        }
        return streams.get(id);
    }

    /** Runs {@code task} after {@code delay}; null if the channel is closed (nothing left to time). */
    ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        try {
            return timers.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closedMeanwhile) {
            return null;
        }
    }

    // ------------------------------------------------------------------ ping

    /** Round trip of a PING; also a liveness check. */
    Duration ping(Duration timeout) {
        long id = pingIds.incrementAndGet();
        CompletableFuture<Long> pong = new CompletableFuture<>();
        pings.put(id, pong);
        long start = System.nanoTime();
        try {
            send(Frame.of(FrameType.PING, 0, WireCodec.ping(id)));
            Await.await(pong, timeout, "PONG");
            return Duration.ofNanos(System.nanoTime() - start);
        } finally {
            pings.remove(id);
        }
    }

    void onPong(byte[] payload) {
        Long id = WireCodec.pongId(payload);
        CompletableFuture<Long> p = id == null ? null : pings.get(id);
        if (p != null) p.complete(0L);
    }

    // ------------------------------------------------------------------ writing

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
        if (e != null) throw Await.again(e);
    }

    // ------------------------------------------------------------------ closing

    void close(String why) {
        fatal(new GuestChannelClosedException("guest channel " + why));
    }

    /** Closes the channel once and fails everything that waits on it. Returns the cause for throwing. */
    GuestChannelClosedException fatal(GuestChannelClosedException cause) {
        if (!closedBy.compareAndSet(null, cause)) return closedBy.get();
        if (cause instanceof GuestProtocolException || cause instanceof GuestChannelExhaustedException) {
            LOG.log(System.Logger.Level.WARNING, "closing the guest channel: " + cause.getMessage());
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort; the reader stops on the closed channel either way
        }
        inbound.closed(cause);
        api.closed();
        closed.complete(cause);
        timers.shutdownNow();
        pings.values().forEach(p -> p.completeExceptionally(cause));
        for (GuestStream s : List.copyOf(streams.values())) s.fail(cause);
        return cause;
    }

    // ------------------------------------------------------------------ reading

    private void readLoop() {
        try {
            while (true) {
                Frame f = reader.read();
                if (f == null) {
                    fatal(new GuestChannelClosedException(inbound.haltAnswered() ? "guest channel closed after halt"
                            : "the agent closed the guest channel"));
                    return;
                }
                inbound.dispatch(f);
            }
        } catch (GuestChannelClosedException e) {
            fatal(e);
        } catch (IOException e) {
            fatal(new GuestChannelClosedException("reading the guest channel failed: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            fatal(new GuestProtocolException("unexpected frame from the agent: " + e));
        }
    }

    private static ScheduledThreadPoolExecutor timers() {
        // A virtual thread: an idle connection's timer costs no platform thread.
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1,
                Thread.ofVirtual().name("kiln-guest-timer").factory());
        t.setRemoveOnCancelPolicy(true);
        return t;
    }
}
