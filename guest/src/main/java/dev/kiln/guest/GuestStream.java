package dev.kiln.guest;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Host-side state of one stream: the head future, the inbound body queue and both flow-control
 * windows. The inbound queue needs no bound of its own: the window we grant bounds it, and an
 * agent that overruns it breaks the protocol (the reader must never block on a slow consumer).
 */
final class GuestStream {
    private static final Object END = new Object();

    private record Failure(GuestException exception) {
    }

    final int id;
    final Kind kind;
    final CompletableFuture<Frame> head = new CompletableFuture<>();
    private final GuestChannel channel;
    private final LinkedBlockingQueue<Object> inbound = new LinkedBlockingQueue<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition creditChanged = lock.newCondition();
    private final CompletableFuture<Void> released = new CompletableFuture<>();
    private long credit = Frame.INITIAL_WINDOW;
    private long recvAllowed = Frame.INITIAL_WINDOW;
    private long unacked;
    private boolean inboundEnded;
    private volatile GuestException failure;

    /** What opened the stream. */
    enum Kind { CONFIGURE, REQUEST, EVENT }

    GuestStream(GuestChannel channel, int id, Kind kind) {
        this.channel = channel;
        this.id = id;
        this.kind = kind;
    }

    // ---- reader thread

    void onData(byte[] payload, boolean end) {
        lock.lock();
        try {
            if (inboundEnded) throw new GuestProtocolException("DATA after the end of stream " + id);
            if (payload.length > recvAllowed) {
                throw new GuestProtocolException("the agent overran the flow-control window of stream " + id);
            }
            recvAllowed -= payload.length;
            if (payload.length > 0) inbound.add(payload);
            if (end) {
                inboundEnded = true;
                inbound.add(END);
                creditChanged.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (end) channel.release(this);
    }

    void onWindow(long increment) {
        lock.lock();
        try {
            if (credit + increment > Integer.MAX_VALUE) throw new GuestProtocolException("window over 2^31-1 on stream " + id);
            credit += increment;
            creditChanged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Fails everything waiting on this stream; the first failure wins. */
    void fail(GuestException e) {
        lock.lock();
        try {
            if (failure == null && !inboundEnded) {
                failure = e;
                inbound.add(new Failure(e));
            }
            creditChanged.signalAll();
        } finally {
            lock.unlock();
        }
        head.completeExceptionally(e);
        channel.release(this);
    }

    boolean ended() {
        lock.lock();
        try {
            return inboundEnded || failure != null;
        } finally {
            lock.unlock();
        }
    }

    /** True only for the first call: the stream's slot is given back once. */
    boolean markReleased() {
        return released.complete(null);
    }

    /** Runs {@code action} once the stream is over on the host's side (answered, failed or cancelled). */
    void whenReleased(Runnable action) {
        released.thenRun(action);
    }

    // ---- consumers

    /** The next body chunk, or null at the end of the body. */
    byte[] nextChunk() {
        Object item;
        try {
            item = inbound.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted while reading a response body", e);
        }
        if (item == END) {
            inbound.add(END);
            return null;
        }
        if (item instanceof Failure f) {
            inbound.add(f);
            throw f.exception();
        }
        byte[] chunk = (byte[]) item;
        consumed(chunk.length);
        return chunk;
    }

    private void consumed(int n) {
        long grant = 0;
        lock.lock();
        try {
            unacked += n;
            if (unacked >= Frame.INITIAL_WINDOW / 2 && !inboundEnded && failure == null) {
                grant = unacked;
                unacked = 0;
                recvAllowed += grant;
            }
        } finally {
            lock.unlock();
        }
        if (grant > 0) channel.sendWindow(id, grant);
    }

    /** Blocks until some credit is available; returns how much was taken, or 0 if the stream is over. */
    int takeCredit(int want) {
        lock.lock();
        try {
            while (credit <= 0 && failure == null && !releasedOutbound()) {
                creditChanged.awaitUninterruptibly();
            }
            if (failure != null || credit <= 0 || releasedOutbound()) return 0;
            int granted = (int) Math.min(want, credit);
            credit -= granted;
            return granted;
        } finally {
            lock.unlock();
        }
    }

    /** The agent has answered completely: it no longer reads the request body (docs §3, §6). */
    private boolean releasedOutbound() {
        return inboundEnded && kind != Kind.CONFIGURE;
    }
}
