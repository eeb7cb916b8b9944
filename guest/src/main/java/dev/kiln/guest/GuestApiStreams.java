package dev.kiln.guest;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The streams the agent opens (API_REQUEST, docs/guest-protocol.md §6.6): even ids, each a request
 * of the program to the guest API. On the reader thread a stream only collects its body (bounded,
 * so the reader never blocks); the handler runs on a virtual thread of its own, and its answer is
 * sent as API_RESPONSE + DATA within the window the agent grants. With no handler set (the
 * program has no {@code aleph_api}) every stream is answered {@code 403}: the host refuses API
 * streams from such a VM whatever its agent does.
 */
final class GuestApiStreams {
    private static final System.Logger LOG = System.getLogger(GuestApiStreams.class.getName());
    /** How long the host waits for the agent to grant window for a response before giving up on it. */
    private static final long CREDIT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final GuestChannel channel;
    private final Map<Integer, ApiStream> open = new ConcurrentHashMap<>();
    private volatile GuestApiHandler handler;
    /** Reader thread only. */
    private int lastId;

    GuestApiStreams(GuestChannel channel) {
        this.channel = channel;
    }

    void serve(GuestApiHandler h) {
        this.handler = h;
    }

    static boolean isAgentStream(int id) {
        return id > 0 && id % 2 == 0;
    }

    // ------------------------------------------------------------------ reader thread

    void open(Frame f) {
        int id = f.stream();
        if (!isAgentStream(id) || id <= lastId) {
            throw new GuestProtocolException("API_REQUEST on stream " + id + ": the agent opens even ids, each once, in order");
        }
        lastId = id;
        ApiStream s = new ApiStream(id);
        GuestApiRequest head;
        try {
            head = WireCodec.apiRequestHead(f.payload());
        } catch (IllegalArgumentException e) {
            refuse(s, f.end(), GuestApiResponse.error(400, "bad_request", e.getMessage()));
            return;
        }
        GuestApiHandler h = handler;
        if (h == null) {
            refuse(s, f.end(), GuestApiResponse.error(403, "guest_api_disabled",
                    "this program has no guest API: set environment.aleph_api to true in its message"));
            return;
        }
        if (open.size() >= GuestApiHandler.MAX_OPEN_STREAMS) {
            refuse(s, f.end(), GuestApiResponse.error(429, "too_many_requests", "more than "
                    + GuestApiHandler.MAX_OPEN_STREAMS + " guest-API requests at once from this VM; wait for answers"));
            return;
        }
        s.head = head;
        s.handler = h;
        open.put(id, s);
        if (f.end()) s.complete();
    }

    /** DATA, WINDOW or CANCEL on an even stream; frames of streams that are over are dropped. */
    void onFrame(FrameType type, Frame f) {
        if (f.stream() > lastId) throw new GuestProtocolException(type + " for stream " + f.stream() + ", which the agent never opened");
        ApiStream s = open.get(f.stream());
        if (s == null) return;
        switch (type) {
            case DATA -> s.data(f.payload(), f.end());
            case WINDOW -> s.window(WireCodec.windowIncrement(f.payload()));
            case CANCEL -> s.cancel();
            default -> throw new GuestProtocolException(type + " on API stream " + f.stream());
        }
    }

    void closed() {
        for (ApiStream s : open.values()) s.cancel();
        open.clear();
    }

    /** Answers without the handler; a body still coming is dropped (the stream is forgotten). */
    private void refuse(ApiStream s, boolean ended, GuestApiResponse answer) {
        if (!ended) {
            // The agent may still send body frames: they find no open stream and are dropped.
            s.discardBody = true;
        }
        Thread.ofVirtual().name("kiln-guest-api-refuse-" + s.id).start(() -> s.respond(answer));
    }

    // ------------------------------------------------------------------ one stream

    private final class ApiStream {
        final int id;
        GuestApiRequest head;
        GuestApiHandler handler;
        boolean discardBody;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private long recvAllowed = Frame.INITIAL_WINDOW;
        private long unacked;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition creditChanged = lock.newCondition();
        private long credit = Frame.INITIAL_WINDOW;
        private boolean cancelled;
        private boolean tooLarge;

        ApiStream(int id) {
            this.id = id;
        }

        void data(byte[] payload, boolean end) {
            if (payload.length > recvAllowed) {
                throw new GuestProtocolException("the agent overran the flow-control window of API stream " + id);
            }
            recvAllowed -= payload.length;
            if (!tooLarge && body.size() + payload.length > GuestApiHandler.MAX_REQUEST_BODY) {
                tooLarge = true;
                body.reset();
            }
            if (!tooLarge) body.write(payload, 0, payload.length);
            unacked += payload.length;
            if (!end && unacked >= Frame.INITIAL_WINDOW / 2) {
                // Granting as we buffer is safe: the body is bounded above, not by the window.
                recvAllowed += unacked;
                channel.sendWindow(id, unacked);
                unacked = 0;
            }
            if (end) complete();
        }

        void complete() {
            GuestApiRequest request = new GuestApiRequest(head.method(), head.path(), head.query(), head.headers(),
                    body.toByteArray());
            boolean refused = tooLarge;
            Thread.ofVirtual().name("kiln-guest-api-" + id).start(() -> {
                if (refused) {
                    respond(GuestApiResponse.error(413, "request_too_large", "guest-API request bodies are limited to "
                            + GuestApiHandler.MAX_REQUEST_BODY + " bytes"));
                } else {
                    respond(call(request));
                }
            });
        }

        private GuestApiResponse call(GuestApiRequest request) {
            try {
                GuestApiResponse r = handler.handle(request);
                if (r == null) return GuestApiResponse.error(500, "internal", "the node gave no answer");
                if (r.body().length > GuestApiHandler.MAX_RESPONSE_BODY) {
                    return GuestApiResponse.error(502, "response_too_large", "the answer is larger than the guest API's "
                            + GuestApiHandler.MAX_RESPONSE_BODY + " bytes");
                }
                return r;
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.WARNING, "a guest-API handler failed on " + request.method() + " "
                        + request.path(), e);
                return GuestApiResponse.error(500, "internal", "the node failed to answer this request");
            }
        }

        void window(long increment) {
            lock.lock();
            try {
                if (credit + increment > Integer.MAX_VALUE) throw new GuestProtocolException("window over 2^31-1 on stream " + id);
                credit += increment;
                creditChanged.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void cancel() {
            lock.lock();
            try {
                cancelled = true;
                creditChanged.signalAll();
            } finally {
                lock.unlock();
            }
            open.remove(id, this);
        }

        /** Sends the answer within the agent's window; off the reader thread. */
        void respond(GuestApiResponse r) {
            try {
                byte[] bytes = r.body();
                channel.send(Frame.of(FrameType.API_RESPONSE, bytes.length == 0 ? Frame.FLAG_END : 0, id,
                        WireCodec.apiResponseHead(r)));
                int off = 0;
                while (off < bytes.length) {
                    int granted = takeCredit(Math.min(Frame.CHUNK, bytes.length - off));
                    if (granted == 0) return;
                    int to = off + granted;
                    channel.send(Frame.of(FrameType.DATA, to == bytes.length ? Frame.FLAG_END : 0, id,
                            Arrays.copyOfRange(bytes, off, to)));
                    off = to;
                }
            } catch (GuestChannelClosedException gone) {
                // the VM is gone: nobody is waiting for this answer
            } finally {
                open.remove(id, this);
            }
        }

        private int takeCredit(int want) {
            lock.lock();
            try {
                long deadline = System.nanoTime() + CREDIT_WAIT_NANOS;
                while (credit <= 0 && !cancelled) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        channel.sendCancel(id, "the program stopped reading the guest API's answer");
                        return 0;
                    }
                    creditChanged.awaitNanos(left);
                }
                if (cancelled) return 0;
                int granted = (int) Math.min(want, credit);
                credit -= granted;
                return granted;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            } finally {
                lock.unlock();
            }
        }
    }
}
