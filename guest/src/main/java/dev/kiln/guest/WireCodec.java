package dev.kiln.guest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The payload of each frame kind, both ways (docs/guest-protocol.md §2–§7). Everything the agent
 * sends is checked here: a payload that is not what the protocol says is a
 * {@link GuestProtocolException}, which closes the channel.
 */
final class WireCodec {
    static final List<Integer> HOST_VERSIONS = List.of(1);
    /** The protocol's limit on headers, both ways (§6.1, §6.2). */
    static final int MAX_HEADERS = 256;
    private static final ObjectMapper JSON = new ObjectMapper();

    private WireCodec() {
    }

    /** A RESPONSE head. */
    record ResponseHead(int status, List<Header> headers) {
    }

    /** An ERROR payload. */
    record ErrorPayload(String code, String message) {
    }

    // ------------------------------------------------------------------ host to agent

    static byte[] hostHello() {
        return json(Map.of("versions", HOST_VERSIONS));
    }

    static byte[] configure(ProgramConfig config) {
        return json(config.toWire());
    }

    static byte[] requestHead(GuestRequest request) {
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("method", request.method());
        head.put("path", request.path());
        head.put("query", request.query());
        List<List<String>> headers = new ArrayList<>(request.headers().size());
        for (Header h : request.headers()) headers.add(List.of(h.name(), h.value()));
        head.put("headers", headers);
        head.put("scheme", request.scheme());
        if (request.clientHost() != null) head.put("client", List.of(request.clientHost(), request.clientPort()));
        if (request.requestId() != null) head.put("request_id", request.requestId());
        return json(head);
    }

    /** An EVENT carrying an aleph message; refuses anything but a JSON object. */
    static byte[] event(String messageJson) {
        JsonNode message;
        try {
            message = JSON.readTree(messageJson);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the message is not JSON: " + e.getOriginalMessage(), e);
        }
        if (message == null || !message.isObject()) throw new IllegalArgumentException("the message must be a JSON object");
        ObjectNode event = JSON.createObjectNode().put("type", "message");
        event.set("message", message);
        return json(event);
    }

    static byte[] halt(Duration grace) {
        return json(Map.of("grace_seconds", Math.max(0, Math.min(120, grace.toSeconds()))));
    }

    static byte[] cancel(String reason) {
        return json(Map.of("reason", reason));
    }

    static byte[] window(long increment) {
        return ByteBuffer.allocate(4).putInt((int) increment).array();
    }

    static byte[] ping(long id) {
        return ByteBuffer.allocate(8).putLong(id).array();
    }

    // ------------------------------------------------------------------ agent to host

    static AgentHello hello(byte[] payload) {
        JsonNode h = object(payload, "HELLO");
        List<Integer> versions = new ArrayList<>();
        for (JsonNode v : h.path("versions")) versions.add(v.asInt());
        LinkedHashSet<String> caps = new LinkedHashSet<>();
        for (JsonNode c : h.path("capabilities")) caps.add(c.asText());
        JsonNode boot = h.path("boot");
        int maxStreams = h.path("max_streams").asInt(0);
        if (maxStreams < 1 || maxStreams > 65536) throw new GuestProtocolException("HELLO max_streams out of range");
        return new AgentHello(List.copyOf(versions), text(h, "agent"), text(h.path("runtime"), "name"),
                text(h.path("runtime"), "hash"), text(h, "python"), Collections.unmodifiableSet(caps),
                h.path("system").asBoolean(), h.path("pid1").asBoolean(), maxStreams, h.path("max_frame").asInt(),
                h.path("initial_window").asInt(), h.path("configured").asBoolean(),
                new BootTimings(number(boot, "init0_start"), number(boot, "init0_exec"), number(boot, "init1_start"),
                        number(boot, "init1_ready")));
    }

    /** A CONFIGURED result; a failed configuration is thrown as {@link GuestConfigureException}. */
    static Configured configured(byte[] payload) {
        JsonNode r = object(payload, "CONFIGURED");
        if (!r.path("ok").asBoolean(false)) {
            throw new GuestConfigureException(r.path("code").asText("internal"), r.path("message").asText(""),
                    text(r, "traceback"));
        }
        List<Configured.Skipped> skipped = new ArrayList<>();
        for (JsonNode s : r.path("skipped")) skipped.add(new Configured.Skipped(s.path("step").asText(), s.path("reason").asText()));
        return new Configured(r.path("interface").asText(), text(r, "lifespan"),
                r.hasNonNull("port") ? r.get("port").asInt() : null, List.copyOf(skipped),
                r.path("timings").path("configure").asDouble());
    }

    static ResponseHead responseHead(byte[] payload, int stream) {
        JsonNode h = object(payload, "RESPONSE");
        int status = h.path("status").asInt(-1);
        JsonNode hs = h.path("headers");
        if (status < 100 || status > 599 || !hs.isArray() || hs.size() > MAX_HEADERS) {
            throw new GuestProtocolException("bad RESPONSE head on stream " + stream);
        }
        List<Header> headers = new ArrayList<>(hs.size());
        for (JsonNode pair : hs) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual() || !pair.get(1).isTextual()) {
                throw new GuestProtocolException("bad RESPONSE header on stream " + stream);
            }
            headers.add(new Header(pair.get(0).asText(), pair.get(1).asText()));
        }
        return new ResponseHead(status, headers);
    }

    static ErrorPayload error(byte[] payload) {
        JsonNode e = object(payload, "ERROR");
        return new ErrorPayload(e.path("code").asText("error"), e.path("message").asText(""));
    }

    static String cancelReason(byte[] payload) {
        return object(payload, "CANCEL").path("reason").asText("cancelled");
    }

    static long windowIncrement(byte[] payload) {
        if (payload.length != 4) throw new GuestProtocolException("WINDOW payload must be 4 bytes");
        return Integer.toUnsignedLong(ByteBuffer.wrap(payload).getInt());
    }

    /** The id of a PONG to one of our PINGs; null for a PONG we could not have asked for. */
    static Long pongId(byte[] payload) {
        return payload.length == 8 ? ByteBuffer.wrap(payload).getLong() : null;
    }

    static GuestLog log(byte[] payload) {
        JsonNode l = object(payload, "LOG");
        return new GuestLog(text(l, "level"), text(l, "message"), text(l, "request_id"), text(l, "traceback"), text(l, "kind"));
    }

    static GuestOutput output(byte[] payload) {
        JsonNode o = object(payload, "OUTPUT");
        GuestOutput.Stream stream = switch (o.path("stream").asText("")) {
            case "stdout" -> GuestOutput.Stream.STDOUT;
            case "stderr" -> GuestOutput.Stream.STDERR;
            default -> throw new GuestProtocolException("OUTPUT stream must be stdout or stderr, got " + o.path("stream"));
        };
        JsonNode lines = o.path("lines");
        if (!lines.isArray()) throw new GuestProtocolException("OUTPUT lines must be an array");
        List<String> texts = new java.util.ArrayList<>(lines.size());
        for (JsonNode l : lines) {
            if (!l.isTextual()) throw new GuestProtocolException("OUTPUT lines must be strings");
            texts.add(l.asText());
        }
        long dropped = o.path("dropped").asLong(0);
        if (dropped < 0) throw new GuestProtocolException("OUTPUT dropped must not be negative");
        return new GuestOutput(stream, texts, dropped);
    }

    static HaltResult halted(byte[] payload) {
        JsonNode h = object(payload, "HALTED");
        List<String> left = new ArrayList<>();
        for (JsonNode v : h.path("volumes_left_mounted")) {
            if (!v.isTextual()) throw new GuestProtocolException("HALTED volumes_left_mounted must list mount points");
            left.add(v.asText());
        }
        return new HaltResult(h.path("ok").asBoolean(), text(h, "shutdown"), text(h, "message"),
                h.path("cancelled_streams").asInt(), left);
    }

    // ------------------------------------------------------------------ JSON

    /** A JSON string literal. */
    static String quote(String text) {
        return new String(json(text == null ? "" : text), StandardCharsets.UTF_8);
    }

    /**
     * An API_REQUEST head (§6.6) without its body; a head the agent should not have sent is an
     * {@link IllegalArgumentException}, answered {@code 400} on that stream (the channel stays up).
     */
    static GuestApiRequest apiRequestHead(byte[] payload) {
        JsonNode h;
        try {
            h = JSON.readTree(payload);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("the API request head is not JSON");
        }
        if (h == null || !h.isObject()) throw new IllegalArgumentException("the API request head is not a JSON object");
        String method = h.path("method").asText("");
        String path = h.path("path").asText("");
        JsonNode hs = h.path("headers");
        if (!method.matches("[A-Z]{1,16}") || !path.startsWith("/") || path.length() > 8192) {
            throw new IllegalArgumentException("the API request needs a method and a path starting with /");
        }
        if (!hs.isMissingNode() && (!hs.isArray() || hs.size() > MAX_HEADERS)) {
            throw new IllegalArgumentException("the API request's headers must be a list of at most " + MAX_HEADERS);
        }
        List<Header> headers = new ArrayList<>();
        for (JsonNode pair : hs) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual() || !pair.get(1).isTextual()) {
                throw new IllegalArgumentException("an API request header is not a [name, value] pair");
            }
            headers.add(new Header(pair.get(0).asText(), pair.get(1).asText()));
        }
        return new GuestApiRequest(method, path, h.path("query").asText(""), headers, null);
    }

    static byte[] apiResponseHead(GuestApiResponse response) {
        List<List<String>> hs = new ArrayList<>();
        for (Header h : response.wireHeaders()) hs.add(List.of(h.name(), h.value()));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", response.status());
        m.put("headers", hs);
        return json(m);
    }

    static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + value, e);
        }
    }

    private static JsonNode object(byte[] payload, String what) {
        try {
            JsonNode n = JSON.readTree(payload);
            if (n == null || !n.isObject()) throw new GuestProtocolException(what + " payload is not a JSON object");
            return n;
        } catch (IOException e) {
            throw new GuestProtocolException(what + " payload is not valid JSON");
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || !v.isNumber() ? null : v.asDouble();
    }
}
