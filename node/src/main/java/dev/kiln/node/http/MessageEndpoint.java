package dev.kiln.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.OperatorToken;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.events.AlephMessageFeed;
import dev.kiln.node.events.Delivery;
import dev.kiln.node.events.InboundMessage;
import dev.kiln.node.events.MessageRejectedException;
import dev.kiln.node.events.MessageTriggers;
import dev.kiln.node.events.match.Subscription;
import dev.kiln.node.events.match.SubscriptionIndex;
import dev.kiln.node.update.AmendWatch;
import dev.kiln.store.records.RecordsException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * {@code POST /api/v0/messages}: the node operator posts a message (aleph's submission path; the
 * body is the message, or {@code {"message": {...}}} as aleph's API takes it), authenticated with
 * the operator token. {@code GET /about/deliveries}: the recent deliveries, the queues, the
 * subscriptions, the feed and the VMs drained for amends (docs/events.md).
 */
public final class MessageEndpoint {
    public static final String POST_PATH = "/api/v0/messages";
    public static final String ABOUT_PATH = "/about/deliveries";
    private static final int MAX_LIMIT = 1000;

    private final MessageTriggers triggers;
    private final OperatorToken token;
    private final AlephMessageFeed feed;
    private final AmendWatch amends;

    /** @param feed the remote's stream, or null when the node follows none */
    public MessageEndpoint(MessageTriggers triggers, OperatorToken token, AlephMessageFeed feed, AmendWatch amends) {
        this.triggers = triggers;
        this.token = token;
        this.feed = feed;
        this.amends = amends;
    }

    void post(ServerRequest req, ServerResponse res) {
        if (!token.accepts(req.headers().first(HeaderNames.AUTHORIZATION), req.headers().first(HeaderNames.create("X-Auth-Signature")))) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
            res.status(401);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send(("{\"error\":{\"code\":\"unauthorized\",\"message\":\"posting messages needs the node operator's token:"
                    + " send 'Authorization: Bearer <token>' with the token from the node home's " + OperatorToken.FILE_NAME
                    + " file (kiln message post does)\"}}").getBytes(StandardCharsets.UTF_8));
            return;
        }
        String body;
        try {
            body = readBody(req);
        } catch (TooLarge e) {
            ErrorResponses.send(res, ErrorCode.PAYLOAD_TOO_LARGE, "the message is over " + InboundMessage.MAX_BYTES / 1024
                    + " KiB; a message delivered to programs must fit one event: publish large data as a STORE file and"
                    + " send its hash");
            return;
        } catch (CharacterCodingException e) {
            ErrorResponses.send(res, ErrorCode.BAD_REQUEST, "the body is not UTF-8 text; send the message as JSON");
            return;
        } catch (IOException e) {
            ErrorResponses.send(res, ErrorCode.BAD_REQUEST, "the request body could not be read: " + e.getMessage());
            return;
        }
        MessageTriggers.Accepted a;
        try {
            a = triggers.accept(unwrap(body), MessageTriggers.POSTED);
        } catch (MessageRejectedException e) {
            ErrorResponses.send(res, switch (e.kind()) {
                case TOO_LARGE -> ErrorCode.PAYLOAD_TOO_LARGE;
                case UNSUPPORTED -> ErrorCode.UNSUPPORTED;
                default -> ErrorCode.BAD_REQUEST;
            }, e.getMessage());
            return;
        }
        ObjectNode out = ErrorResponses.JSON.createObjectNode();
        out.put("item_hash", a.message().value());
        out.put("type", a.type());
        if (a.recorded() != null) out.put("recorded", a.recorded());
        else out.putNull("recorded");
        ArrayNode t = out.putArray("triggered");
        a.programs().forEach(p -> t.add(p.value()));
        json(res, 202, out);
    }

    /** aleph's API takes {@code {"sync": ..., "message": {...}}}; a bare message is taken as well. */
    private static String unwrap(String body) {
        try {
            JsonNode tree = ErrorResponses.JSON.readTree(body);
            if (tree != null && tree.isObject() && tree.path("message").isObject() && !tree.has("item_hash")) {
                return tree.get("message").toString();
            }
        } catch (IOException notJson) {
            // the message reader says what is wrong with it
        }
        return body;
    }

    void about(ServerRequest req, ServerResponse res) {
        Optional<ItemHash> program;
        int limit;
        try {
            program = req.query().first("program").map(ItemHash::parse);
            limit = req.query().first("limit").map(Integer::parseInt).orElse(100);
        } catch (InvalidItemHashException | NumberFormatException e) {
            ErrorResponses.send(res, ErrorCode.BAD_REQUEST, "program must be an item hash and limit a number: " + e.getMessage());
            return;
        }
        limit = Math.max(1, Math.min(limit, MAX_LIMIT));
        ObjectNode root = ErrorResponses.JSON.createObjectNode();
        ArrayNode list = root.putArray("deliveries");
        try {
            for (Delivery d : triggers.recent(program, limit)) {
                ObjectNode o = list.addObject();
                o.put("program", d.program().value());
                o.put("message", d.message().value());
                o.put("source", d.source());
                o.put("outcome", d.outcome().wire());
                o.put("attempts", d.attempts());
                o.put("detail", d.detail());
                o.put("received_at", d.received().toString());
                o.put("finished_at", d.finished().toString());
                if (d.latency() != null) o.put("latency_seconds", d.latency().toNanos() / 1e9);
                else o.putNull("latency_seconds");
            }
        } catch (RecordsException e) {
            ErrorResponses.send(res, ErrorCode.INTERNAL, "the delivery records cannot be read: " + e.getMessage());
            return;
        }
        ObjectNode waiting = root.putObject("waiting");
        triggers.waiting().forEach((p, n) -> waiting.put(p.value(), n));
        ArrayNode suspended = root.putArray("suspended");
        triggers.suspended().forEach(p -> suspended.add(p.value()));
        ArrayNode subs = root.putArray("subscriptions");
        for (SubscriptionIndex.Entry e : triggers.index().entries()) {
            ObjectNode o = subs.addObject();
            o.put("program", e.program().value());
            ArrayNode filters = o.putArray("filters");
            for (Subscription s : e.subscriptions()) filters.add(s.filter());
        }
        if (feed == null) {
            root.putNull("feed");
        } else {
            AlephMessageFeed.Status s = feed.status();
            ObjectNode f = root.putObject("feed");
            f.put("url", s.url());
            f.put("connected", s.connected());
            f.put("connections", s.connections());
            f.put("received", s.received());
            f.put("skipped_confirmations", s.skipped());
            f.put("last_error", s.lastError());
        }
        ArrayNode updates = root.putArray("updates");
        for (AmendWatch.Update u : amends.recent()) {
            updates.addObject().put("program", u.program().value()).put("execution", u.execution()).put("field", u.field())
                    .put("ref", u.ref().value()).put("from", u.from().value()).put("to", u.to().value())
                    .put("at", u.at().toString());
        }
        json(res, 200, root);
    }

    private static final class TooLarge extends IOException {
    }

    private static String readBody(ServerRequest req) throws IOException {
        if (!req.content().hasEntity()) return "";
        byte[] buf = new byte[InboundMessage.MAX_BYTES + 1];
        int n = 0;
        try (InputStream in = req.content().inputStream()) {
            while (n < buf.length) {
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) break;
                n += r;
            }
            if (n > InboundMessage.MAX_BYTES) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
                throw new TooLarge();
            }
        }
        return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(buf, 0, n)).toString();
    }

    private static void json(ServerResponse res, int status, ObjectNode body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        try {
            res.send(ErrorResponses.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
