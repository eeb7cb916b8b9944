package dev.kiln.guest;

import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * REQUEST and EVENT streams and their responses (docs/guest-protocol.md §6): the head goes out,
 * the body follows on its own thread, the response head is awaited with a timeout that cancels
 * the stream on the agent.
 */
final class RequestCalls {
    private final GuestChannel channel;
    /**
     * Request bodies uploading at once. A client that sends part of a body and stalls holds a
     * stream until its connection breaks; without a bound, enough of them take every stream the
     * agent allows, and requests without a body wait behind them.
     */
    private volatile Semaphore uploads = new Semaphore(Integer.MAX_VALUE);
    private volatile int maxUploads = Integer.MAX_VALUE;

    RequestCalls(GuestChannel channel) {
        this.channel = channel;
    }

    /** Half the agent's streams may carry a body still being uploaded; the other half stay free. */
    void limitUploads(int maxStreams) {
        maxUploads = Math.max(1, maxStreams / 2);
        uploads = new Semaphore(maxUploads);
    }

    CompletableFuture<GuestResponse> request(GuestRequest request, Duration timeout) {
        if (request.headers().size() > WireCodec.MAX_HEADERS) {
            // The agent would refuse it (docs §6.1): refusing here saves the round trip and names the cause.
            throw new GuestRequestRefusedException(GuestErrorCode.TOO_MANY_HEADERS.wire(), request.headers().size()
                    + " headers, the guest protocol carries at most " + WireCodec.MAX_HEADERS);
        }
        InputStream body = request.body();
        Runnable freeSlot = body == null ? () -> { } : takeUploadSlot();
        GuestStream stream;
        try {
            stream = channel.openStream(GuestStream.Kind.REQUEST);
            channel.send(Frame.of(FrameType.REQUEST, body == null ? Frame.FLAG_END : 0, stream.id,
                    WireCodec.requestHead(request)));
        } catch (RuntimeException e) {
            freeSlot.run();
            throw e;
        }
        if (body != null) {
            // Free once the upload is over, or once the stream is: a client stalled mid-body then
            // holds only its own connection, no longer a stream of the agent's.
            stream.whenReleased(freeSlot);
            BodyUpload.requestBody(channel, stream, body, freeSlot);
        }
        return responseOf(stream, timeout);
    }

    CompletableFuture<GuestResponse> event(String messageJson, Duration timeout) {
        byte[] payload = WireCodec.event(messageJson);
        GuestStream stream = channel.openStream(GuestStream.Kind.EVENT);
        channel.send(Frame.of(FrameType.EVENT, Frame.FLAG_END, stream.id, payload));
        return responseOf(stream, timeout);
    }

    private CompletableFuture<GuestResponse> responseOf(GuestStream stream, Duration timeout) {
        ScheduledFuture<?> timer = channel.schedule(() -> {
            if (stream.head.completeExceptionally(new GuestTimeoutException("no response within " + timeout))) {
                channel.cancel(stream, "timeout");
            }
        }, timeout);
        if (timer == null) {
            channel.closed().thenAccept(stream::fail);
            return stream.head.thenApply(frame -> toResponse(stream, frame));
        }
        // Removed as soon as the head arrives: at thousands of requests/s, expired-late timers would pile up.
        stream.head.whenComplete((f, e) -> timer.cancel(false));
        CompletableFuture<GuestResponse> response = stream.head.thenApply(frame -> toResponse(stream, frame));
        // Cancelling the caller's future cancels the stream on the agent too.
        response.whenComplete((r, e) -> {
            if (e instanceof CancellationException) channel.cancel(stream, "cancelled by the host");
        });
        return response;
    }

    /** An upload slot, or a refusal; the slot is given back by the first call of the returned action. */
    private Runnable takeUploadSlot() {
        Semaphore slots = uploads;
        if (!slots.tryAcquire()) {
            throw new GuestRequestRefusedException(GuestErrorCode.TOO_MANY_UPLOADS.wire(), maxUploads
                    + " request bodies are already uploading to this guest; retry");
        }
        AtomicBoolean given = new AtomicBoolean();
        return () -> {
            if (given.compareAndSet(false, true)) slots.release();
        };
    }

    private GuestResponse toResponse(GuestStream stream, Frame frame) {
        WireCodec.ResponseHead head;
        try {
            head = WireCodec.responseHead(frame.payload(), stream.id);
        } catch (GuestProtocolException e) {
            throw channel.fatal(e);
        }
        return new GuestResponse(channel, stream, head.status(), head.headers());
    }
}
