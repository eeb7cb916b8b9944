package dev.kiln.node.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.Allocation;
import dev.kiln.node.control.AllocationOutcome;
import dev.kiln.node.control.Allocations;
import dev.kiln.node.control.MachineInfo;
import dev.kiln.node.control.OperatorToken;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The operator API (docs/operator-api.md): {@code /control/*}, every path behind the node
 * operator's token, on aleph-vm's paths where aleph has them; and {@code GET /about/allocations},
 * public, with what is allocated and how each machine stands (no secrets in it).
 */
final class ControlEndpoint {
    static final HeaderName X_AUTH_SIGNATURE = HeaderNames.create("X-Auth-Signature");
    private static final int MAX_BODY = 1 << 20;
    private static final int DEFAULT_LOG_BYTES = 64 * 1024;
    private static final String MACHINE = "/control/machine/";
    private static final String ALLOW_PREFIX = "this endpoint answers ";

    private final Allocations allocations;
    private final OperatorToken token;

    ControlEndpoint(Allocations allocations, OperatorToken token) {
        this.allocations = allocations;
        this.token = token;
    }

    /** Whether this endpoint answers {@code path}. */
    static boolean handles(String path) {
        return path.equals("/control") || path.startsWith("/control/") || path.equals("/about/allocations");
    }

    void handle(ServerRequest req, ServerResponse res) {
        String path = req.path().rawPath();
        Method method = req.prologue().method();
        try {
            if (path.equals("/about/allocations")) {
                if (!isGet(method)) throw notAllowed("GET");
                json(res, 200, about(false));
                return;
            }
            // Authentication comes before anything is read or routed: a caller without the token learns nothing.
            if (!token.accepts(req.headers().first(HeaderNames.AUTHORIZATION), req.headers().first(X_AUTH_SIGNATURE))) {
                boolean none = req.headers().first(HeaderNames.AUTHORIZATION).isEmpty()
                        && req.headers().first(X_AUTH_SIGNATURE).isEmpty();
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"kiln operator\"");
                throw new NodeException(ErrorCode.UNAUTHORIZED, (none ? "this endpoint needs the node operator's token"
                        : "the operator token given is not this node's") + ": send 'Authorization: Bearer <token>' (or"
                        + " aleph's X-Auth-Signature) with the token from the node home's " + OperatorToken.FILE_NAME + " file");
            }
            route(path, method, req, res);
        } catch (NodeException e) {
            if (e.code() == ErrorCode.METHOD_NOT_ALLOWED && e.getMessage().startsWith(ALLOW_PREFIX)) {
                res.header(HeaderNames.ALLOW, e.getMessage().substring(ALLOW_PREFIX.length(), e.getMessage().indexOf(" only")));
            }
            ErrorResponses.send(res, e);
        }
    }

    private void route(String path, Method method, ServerRequest req, ServerResponse res) throws NodeException {
        switch (path) {
            case "/control/allocations" -> {
                if (method.equals(Method.POST)) {
                    outcome(res, allocations.apply(Allocation.parse(body(req))));
                } else if (isGet(method)) {
                    json(res, 200, allocations.current().toJson());
                } else {
                    throw notAllowed("GET, POST");
                }
            }
            case "/control/allocation/notify" -> {
                if (!method.equals(Method.POST)) throw notAllowed("POST");
                outcome(res, allocations.add(notified(body(req))));
            }
            case "/control/machines" -> {
                if (!isGet(method)) throw notAllowed("GET");
                json(res, 200, about(true));
            }
            default -> {
                if (!path.startsWith(MACHINE)) throw new NodeException(ErrorCode.NOT_FOUND, "no such operator endpoint: "
                        + path + " (see docs/operator-api.md)");
                machine(path.substring(MACHINE.length()), method, req, res);
            }
        }
    }

    /** {@code /control/machine/<hash>/<action>}. */
    private void machine(String rest, Method method, ServerRequest req, ServerResponse res) throws NodeException {
        int slash = rest.indexOf('/');
        if (slash < 0) throw new NodeException(ErrorCode.NOT_FOUND, "name an action: /control/machine/<hash>/stop|reboot|erase|logs");
        ItemHash h = hash(rest.substring(0, slash), "the machine");
        String action = rest.substring(slash + 1);
        switch (action) {
            case "logs" -> {
                if (!isGet(method)) throw notAllowed("GET");
                int max = maxBytes(req);
                String text = allocations.logs(h, max);
                res.status(200);
                res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
                res.header(HeaderNames.CACHE_CONTROL, "no-store");
                res.send(text.getBytes(StandardCharsets.UTF_8));
            }
            case "stop", "reboot", "erase" -> {
                if (!method.equals(Method.POST)) throw notAllowed("POST");
                switch (action) {
                    case "stop" -> allocations.stop(h);
                    case "reboot" -> allocations.reboot(h);
                    default -> allocations.erase(h);
                }
                ObjectNode o = ErrorResponses.JSON.createObjectNode();
                o.put("machine", h.value());
                o.put("action", action);
                o.put("accepted", true);
                json(res, 200, o);
            }
            default -> throw new NodeException(ErrorCode.NOT_FOUND, "no machine action '" + action
                    + "': use stop, reboot, erase (POST) or logs (GET)");
        }
    }

    private ObjectNode about(boolean forOperator) {
        ObjectNode o = ErrorResponses.JSON.createObjectNode();
        o.set("allocation", allocations.current().toJson());
        ArrayNode kinds = o.putArray("kinds");
        allocations.kinds().stream().sorted().forEach(k -> kinds.add(k.allocationField()));
        ArrayNode list = o.putArray("machines");
        for (MachineInfo m : allocations.list()) {
            ObjectNode n = list.addObject();
            n.put("message", m.message().value());
            n.put("kind", m.kind().allocationField());
            n.put("state", m.state());
            n.put("since", m.since().toString());
            if (m.sshPort().isPresent()) n.put("ssh_port", m.sshPort().get());
            else n.putNull("ssh_port");
            ObjectNode d = n.putObject("detail");
            m.detail().forEach(d::put);
        }
        o.put("operator", forOperator);
        return o;
    }

    private static ItemHash notified(byte[] body) throws NodeException {
        try {
            var root = ErrorResponses.JSON.readTree(body);
            if (root == null || !root.isObject() || !root.path("instance").isTextual()) {
                throw new NodeException(ErrorCode.BAD_REQUEST, "the body must be {\"instance\": \"<item hash>\"}: the"
                        + " PROGRAM or INSTANCE message to add to the allocation");
            }
            var it = root.fieldNames();
            while (it.hasNext()) {
                String f = it.next();
                if (!f.equals("instance")) {
                    throw new NodeException(ErrorCode.UNSUPPORTED, "unknown field '" + f + "': the body is {\"instance\": ...}",
                            List.of(new NodeException.Detail(f, "unsupported")), null);
                }
            }
            return hash(root.path("instance").asText(), "instance");
        } catch (IOException e) {
            throw new NodeException(ErrorCode.BAD_REQUEST, "the body is not JSON: " + e.getMessage());
        }
    }

    private static ItemHash hash(String text, String what) throws NodeException {
        try {
            return ItemHash.parse(text);
        } catch (InvalidItemHashException e) {
            throw new NodeException(ErrorCode.BAD_REQUEST, what + ": '" + (text.length() > 80 ? text.substring(0, 80) + "…" : text)
                    + "' is not an item hash: " + e.getMessage());
        }
    }

    private static int maxBytes(ServerRequest req) throws NodeException {
        String v = req.query().first("max_bytes").orElse(null);
        if (v == null) return DEFAULT_LOG_BYTES;
        try {
            int n = Integer.parseInt(v);
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new NodeException(ErrorCode.BAD_REQUEST, "max_bytes must be a positive number of bytes, got '" + v + "'");
        }
    }

    private static byte[] body(ServerRequest req) throws NodeException {
        if (!req.content().hasEntity()) return new byte[0];
        try (InputStream in = req.content().inputStream()) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            if (b.length > MAX_BODY) {
                throw new NodeException(ErrorCode.PAYLOAD_TOO_LARGE, "an operator request body is at most " + MAX_BODY + " bytes");
            }
            return b;
        } catch (IOException e) {
            throw new NodeException(ErrorCode.BAD_REQUEST, "the request body could not be read: " + e.getMessage());
        }
    }

    private static void outcome(ServerResponse res, AllocationOutcome o) {
        json(res, o.httpStatus(), o.toJson());
    }

    private static boolean isGet(Method m) {
        return m.equals(Method.GET) || m.equals(Method.HEAD);
    }

    private static NodeException notAllowed(String allow) {
        return new NodeException(ErrorCode.METHOD_NOT_ALLOWED, ALLOW_PREFIX + allow + " only");
    }

    private static void json(ServerResponse res, int status, ObjectNode body) {
        try {
            res.status(status);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.header(HeaderNames.CACHE_CONTROL, "no-store");
            res.send(ErrorResponses.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
