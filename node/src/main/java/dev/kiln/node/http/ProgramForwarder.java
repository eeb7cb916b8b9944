package dev.kiln.node.http;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestErrorCode;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.GuestRequest;
import dev.kiln.guest.GuestRequestBodyException;
import dev.kiln.guest.GuestRequestRefusedException;
import dev.kiln.guest.GuestResponse;
import dev.kiln.guest.GuestStreamException;
import dev.kiln.guest.GuestTimeoutException;
import dev.kiln.guest.Header;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.pool.Lease;
import dev.kiln.node.program.ProgramResolver;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Forwards one HTTP request to a program's VM over the guest protocol and streams the answer
 * back: the request body goes up in chunks as the client sends it, the response goes down chunk
 * by chunk as the program produces it (a streaming ASGI response reaches the client as it is
 * written).
 */
final class ProgramForwarder {
    /** Bound by a caller that wants to know which VM served the request (the console's per-VM recent requests). */
    public static final ScopedValue<java.util.concurrent.atomic.AtomicReference<String>> SERVED_BY = ScopedValue.newInstance();
    private static final System.Logger LOG = System.getLogger(ProgramForwarder.class.getName());
    /** RFC 9110 §7.6.1: meaningful for one connection only; never forwarded. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");

    private final ExecutionPool pool;
    private final NodeMetrics metrics;

    ProgramForwarder(ExecutionPool pool, NodeMetrics metrics) {
        this.pool = pool;
        this.metrics = metrics;
    }

    void forward(ItemHash program, String rawPath, ServerRequest req, ServerResponse res) {
        long start = System.nanoTime();
        String outcome;
        try {
            outcome = forwardOrThrow(program, rawPath, req, res);
        } catch (ResponseAbortedException | UncheckedIOException e) {
            metrics.request("aborted", System.nanoTime() - start);
            throw e;
        } catch (NodeException e) {
            outcome = e.code().wire();
            if (e.code() == ErrorCode.INTERNAL) {
                LOG.log(System.Logger.Level.ERROR, "request for " + program + " failed", e);
            } else {
                LOG.log(System.Logger.Level.DEBUG, "request for " + program + " failed: " + e.getMessage());
            }
            ErrorResponses.send(res, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcome = ErrorCode.SHUTTING_DOWN.wire();
            ErrorResponses.send(res, ErrorCode.SHUTTING_DOWN, "the node is shutting down");
        }
        metrics.request(outcome, System.nanoTime() - start);
    }

    private String forwardOrThrow(ItemHash program, String rawPath, ServerRequest req, ServerResponse res)
            throws NodeException, InterruptedException {
        RequestBody body = req.content().hasEntity() ? new RequestBody(req.content().inputStream()) : null;
        String requestId = "req-" + req.id() + "-" + req.socketId();
        try (Lease lease = pool.acquire(program)) {
            // Warm because a message started it: HTTP still does not reach a program without on.http.
            if (!ProgramResolver.startedByHttp(lease.execution().program().content())) throw ProgramResolver.notHttp(program);
            if (SERVED_BY.isBound()) SERVED_BY.get().set(lease.execution().id());
            GuestResponse response = send(lease, guestRequest(rawPath, req, body, lease, requestId));
            try {
                byte[] first = firstChunk(response, lease, requestId);
                res.status(response.status());
                copyHeaders(response, res);
                stream(first, response, res, lease, requestId);
            } finally {
                response.close();
            }
            return (response.status() / 100) + "xx";
        } finally {
            if (body != null) body.finish();
        }
    }

    private GuestRequest guestRequest(String rawPath, ServerRequest req, RequestBody body, Lease lease, String requestId) {
        List<Header> headers = new ArrayList<>();
        for (io.helidon.http.Header h : req.headers()) {
            if (HOP_BY_HOP.contains(h.name().toLowerCase(Locale.ROOT))) continue;
            for (String v : h.allValues()) headers.add(new Header(h.name(), v));
        }
        String query = req.query().rawValue();
        return new GuestRequest(req.prologue().method().text(), rawPath, query, headers, req.isSecure() ? "https" : "http",
                req.remotePeer().host(), req.remotePeer().port(), requestId, body,
                lease.execution().requestTimeout());
    }

    private GuestResponse send(Lease lease, GuestRequest request) throws NodeException {
        ItemHash program = lease.execution().programHash();
        long sent = System.nanoTime();
        try {
            GuestResponse response = lease.execution().guest().request(request);
            lease.answered();
            return response;
        } catch (GuestTimeoutException e) {
            boolean replaced = lease.timedOut(sent);
            throw new NodeException(ErrorCode.PROGRAM_TIMEOUT, "program " + program + " did not answer within "
                    + lease.execution().requestTimeout().toSeconds() + " s (its resources.seconds)"
                    + (replaced ? "; it has answered nothing since an earlier request timed out too (a handler"
                    + " blocking its event loop?), so its VM is replaced and the next request starts a fresh one" : ""), e);
        } catch (GuestChannelClosedException e) {
            lease.vmLost(e.getMessage());
            throw new NodeException(ErrorCode.VM_DIED, "the VM of program " + program
                    + " died while handling the request; the next request boots a fresh one", e);
        } catch (GuestRequestBodyException e) {
            throw brokenBody(request.requestId(), e);
        } catch (GuestRequestRefusedException e) {
            throw refused(program, e);
        } catch (GuestStreamException e) {
            if (e.errorCode() == GuestErrorCode.HALTING) {
                throw new NodeException(ErrorCode.SHUTTING_DOWN, "the VM of program " + program + " is stopping; retry", e);
            }
            throw new NodeException(ErrorCode.VM_DIED, "the guest of program " + program + " dropped the request ("
                    + e.code() + ")", e);
        } catch (GuestException e) {
            throw new NodeException(ErrorCode.INTERNAL, "forwarding to program " + program + " failed", e);
        }
    }

    /** The client's side broke, not the VM: the guest stream is cancelled already; logged here, once. */
    private static NodeException brokenBody(String requestId, GuestRequestBodyException e) {
        LOG.log(System.Logger.Level.INFO, "request " + requestId + ": reading the client's body failed ("
                + e.getCause() + "); its guest stream was cancelled");
        return new NodeException(ErrorCode.BAD_REQUEST, "the request body could not be read: send the whole body"
                + " its Content-Length or chunked encoding declares", e);
    }

    /** One request refused, the VM kept. */
    private static NodeException refused(ItemHash program, GuestRequestRefusedException e) {
        return switch (e.errorCode()) {
            case TOO_MANY_HEADERS -> new NodeException(ErrorCode.TOO_MANY_HEADERS, "too many request headers ("
                    + e.getMessage() + "): send fewer", e);
            case BAD_REQUEST -> new NodeException(ErrorCode.BAD_REQUEST, "the request cannot be passed to a program ("
                    + e.getMessage() + ")", e);
            case TOO_MANY_UPLOADS -> new NodeException(ErrorCode.TOO_MANY_UPLOADS, "program " + program
                    + " is receiving too many request bodies at once; retry shortly", e);
            case HALTING -> new NodeException(ErrorCode.SHUTTING_DOWN, "the VM of program " + program + " is stopping; retry", e);
            default -> new NodeException(ErrorCode.INTERNAL, "the guest of program " + program + " refused the request ("
                    + e.code() + ")", e);
        };
    }

    private static void copyHeaders(GuestResponse response, ServerResponse res) {
        Map<String, List<String>> byName = new LinkedHashMap<>();
        for (Header h : response.headers()) {
            String lower = h.name().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower)) continue;
            byName.computeIfAbsent(h.name(), n -> new ArrayList<>()).add(h.value());
        }
        for (Map.Entry<String, List<String>> e : byName.entrySet()) {
            res.headers().set(HeaderNames.create(e.getKey()), e.getValue());
        }
    }

    /**
     * The first body chunk, read before anything goes to the client: until then a failure can
     * still be answered with a proper error.
     */
    private static byte[] firstChunk(GuestResponse response, Lease lease, String requestId) throws NodeException {
        ItemHash program = lease.execution().programHash();
        try {
            return response.nextChunk();
        } catch (GuestChannelClosedException e) {
            lease.vmLost(e.getMessage());
            throw new NodeException(ErrorCode.VM_DIED, "the VM of program " + program
                    + " died while answering; the next request boots a fresh one", e);
        } catch (GuestRequestBodyException e) {
            throw brokenBody(requestId, e);
        } catch (GuestStreamException e) {
            throw new NodeException(ErrorCode.PROGRAM_FAILED, "program " + program + " aborted its response ("
                    + e.code() + "); its owner can find the error in the node's log", e);
        } catch (GuestException e) {
            throw new NodeException(ErrorCode.INTERNAL, "reading the answer of program " + program + " failed", e);
        }
    }

    /** Body chunks as they come; a failure after the head was sent can only cut the response short. */
    private void stream(byte[] first, GuestResponse response, ServerResponse res, Lease lease, String requestId) {
        if (first == null) {
            res.send();
            return;
        }
        String length = response.header("content-length");
        if (length != null && length.strip().equals(Integer.toString(first.length))) {
            // The whole body came in one chunk: one write for head and body, no chunk framing.
            res.send(first);
            return;
        }
        try (OutputStream out = res.outputStream()) {
            for (byte[] chunk = first; chunk != null; chunk = response.nextChunk()) {
                out.write(chunk);
                out.flush();
            }
        } catch (GuestChannelClosedException e) {
            lease.vmLost(e.getMessage());
            throw abort(lease, requestId, e);
        } catch (GuestException e) {
            throw abort(lease, requestId, e);
        } catch (IOException e) {
            // The client went away: stop the program's work on it.
            response.cancel();
            throw new UncheckedIOException(e);
        }
    }

    /** Thrown out of the handler after the head was sent: the webserver then closes the connection. */
    private static ResponseAbortedException abort(Lease lease, String requestId, GuestException e) {
        LOG.log(System.Logger.Level.WARNING, "request " + requestId + ": response of program "
                + lease.execution().programHash() + " aborted mid-body: " + e.getMessage());
        return new ResponseAbortedException("response aborted by the program's guest: " + e.getMessage());
    }

    /** A response cut short after its head; the webserver closes the connection so the client notices. */
    static final class ResponseAbortedException extends RuntimeException {
        ResponseAbortedException(String message) {
            super(message, null, false, false);
        }
    }
}
