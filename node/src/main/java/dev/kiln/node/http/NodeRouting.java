package dev.kiln.node.http;

import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.hash.ProgramHostname;
import dev.kiln.node.console.WebConsole;
import dev.kiln.node.error.ErrorCode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Every request enters here. A Host whose first label is a program's base32 hash goes to that
 * program whatever the path; otherwise {@code /vm/<item hash>/<path>} goes to the program with
 * {@code /<path>}, and the node's own endpoints answer the rest. One handler rather than route
 * patterns, so hostname routing takes precedence over every path.
 */
final class NodeRouting implements Handler {
    private static final System.Logger LOG = System.getLogger(NodeRouting.class.getName());
    private static final String VM_PREFIX = "/vm/";

    private final ProgramForwarder forwarder;
    private final AboutEndpoint about;
    private final SelfCheck selfCheck;
    private final java.util.function.Supplier<String> metrics;
    private final byte[] index;
    private final WebConsole console;
    private final java.util.function.Supplier<java.net.URI> self;
    private final ControlEndpoint control;
    /** Message triggers (docs/events.md), or null on a node without them. */
    private final MessageEndpoint messages;

    NodeRouting(ProgramForwarder forwarder, AboutEndpoint about, SelfCheck selfCheck,
                java.util.function.Supplier<String> metrics, byte[] index, WebConsole console,
                java.util.function.Supplier<java.net.URI> self, ControlEndpoint control, MessageEndpoint messages) {
        this.messages = messages;
        this.forwarder = forwarder;
        this.about = about;
        this.selfCheck = selfCheck;
        this.metrics = metrics;
        this.index = index;
        this.console = console;
        this.self = self;
        this.control = control;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        try {
            route(req, res);
        } catch (ProgramForwarder.ResponseAbortedException | java.io.UncheckedIOException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "unexpected failure handling " + req.prologue().method().text() + " "
                    + req.path().rawPath(), e);
            ErrorResponses.send(res, ErrorCode.INTERNAL, "the node failed to handle the request; its log has the details");
        }
    }

    private void route(ServerRequest req, ServerResponse res) {
        String rawPath = req.path().rawPath();
        Optional<ItemHash> byHost = ProgramHostname.programOf(req.authority());
        if (byHost.isPresent()) {
            forward(byHost.get(), rawPath, req, res, true);
            return;
        }
        if (rawPath.equals("/vm") || rawPath.startsWith(VM_PREFIX)) {
            routeVm(rawPath, req, res);
            return;
        }
        if (ControlEndpoint.handles(rawPath)) {
            control.handle(req, res);
            return;
        }
        if (console.handle(req, res)) return;
        boolean get = req.prologue().method().equals(Method.GET) || req.prologue().method().equals(Method.HEAD);
        if (messages != null && routeMessages(rawPath, get, req, res)) return;
        switch (rawPath) {
            case "/" -> {
                if (get) json(res, 200, index);
                else methodNotAllowed(res);
            }
            case "/about/executions/list" -> {
                if (get) json(res, 200, about.executions());
                else methodNotAllowed(res);
            }
            case "/about/volumes" -> {
                if (!get) {
                    methodNotAllowed(res);
                    return;
                }
                try {
                    json(res, 200, about.volumes());
                } catch (java.io.IOException e) {
                    ErrorResponses.send(res, ErrorCode.INTERNAL, "the volumes directory cannot be read: " + e.getMessage());
                }
            }
            case "/status/check/fastapi" -> {
                if (!get) {
                    methodNotAllowed(res);
                    return;
                }
                SelfCheck.Report r = selfCheck.run();
                json(res, r.ok() ? 200 : 503, r.json());
            }
            case "/metrics" -> {
                if (!get) {
                    methodNotAllowed(res);
                    return;
                }
                res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                res.send(metrics.get().getBytes(StandardCharsets.UTF_8));
            }
            default -> ErrorResponses.send(res, ErrorCode.NOT_FOUND, "no such endpoint: " + rawPath
                    + " (programs are at /vm/<item hash>/…)");
        }
    }

    private boolean routeMessages(String rawPath, boolean get, ServerRequest req, ServerResponse res) {
        switch (rawPath) {
            case MessageEndpoint.POST_PATH -> {
                if (req.prologue().method().equals(Method.POST)) {
                    messages.post(req, res);
                } else {
                    res.header(HeaderNames.ALLOW, "POST");
                    res.status(405);
                    res.header(HeaderNames.CONTENT_TYPE, "application/json");
                    res.send(("{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"this endpoint takes POST with a"
                            + " message\"}}").getBytes(StandardCharsets.UTF_8));
                }
                return true;
            }
            case MessageEndpoint.ABOUT_PATH -> {
                if (get) messages.about(req, res);
                else methodNotAllowed(res);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private void routeVm(String rawPath, ServerRequest req, ServerResponse res) {
        String rest = rawPath.length() <= VM_PREFIX.length() ? "" : rawPath.substring(VM_PREFIX.length());
        int slash = rest.indexOf('/');
        String ref = slash < 0 ? rest : rest.substring(0, slash);
        String programPath = slash < 0 ? "/" : rest.substring(slash);
        if (ref.isEmpty()) {
            ErrorResponses.send(res, ErrorCode.BAD_REQUEST, "name a program: /vm/<item hash>/<path>");
            return;
        }
        ItemHash program;
        try {
            program = ItemHash.parse(ref);
        } catch (InvalidItemHashException e) {
            ErrorResponses.send(res, ErrorCode.BAD_REQUEST, "'" + abbreviate(ref) + "' is not an item hash: "
                    + e.getMessage());
            return;
        }
        forward(program, programPath, req, res, false);
    }

    /** Forwards, with the log page an error body links to, and tells the console how it went. */
    private void forward(ItemHash program, String path, ServerRequest req, ServerResponse res, boolean byHostname) {
        long start = System.nanoTime();
        int status = 0;
        var servedBy = new java.util.concurrent.atomic.AtomicReference<String>();
        try {
            ScopedValue.where(ErrorResponses.LOG_URL, WebConsole.logUrl(program, req, self.get().toString(), byHostname))
                    .where(ProgramForwarder.SERVED_BY, servedBy)
                    .run(() -> forwarder.forward(program, path, req, res));
            status = res.status().code();
        } finally {
            console.forwarded(program, servedBy.get(), req.prologue().method().text(), path, status, System.nanoTime() - start);
        }
    }

    private static void json(ServerResponse res, int status, byte[] body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body);
    }

    private static void methodNotAllowed(ServerResponse res) {
        res.header(HeaderNames.ALLOW, "GET, HEAD");
        res.status(405);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(("{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"this endpoint answers GET only\"}}")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
