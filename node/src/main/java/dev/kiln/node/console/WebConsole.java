package dev.kiln.node.console;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.KilnHome;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The node's web console and log endpoints (docs/console.md): HTML pages at {@code /} (for a
 * browser; JSON clients keep getting the node's index there) and {@code /console/...}, the logs
 * as JSON and Server-Sent Events at {@code /logs/...}. The node's routing hands every request to
 * {@link #handle} first; it answers those paths and declines the rest.
 *
 * <p>Local only for now: requests that do not come from the loopback get 403 (logs can hold a
 * program's secrets; the operator API's auth will open them to a program's owner).
 */
public final class WebConsole implements AutoCloseable {
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
            + " img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private final ConsoleContext context;
    private final ExecutionWatcher watcher;
    private final ConsolePages pages;
    private final LogEndpoints logEndpoints;
    private final Assets assets = new Assets();
    private volatile boolean closing;

    public WebConsole(ExecutionPool pool, NodeRecords records, KilnHome home, LocalRuntimeList localRuntimes, LogStore logs, String accelerator,
                      String version) {
        NodeSeries series = new NodeSeries();
        this.context = new ConsoleContext(pool, records, home, localRuntimes, logs, series, accelerator, version, Instant.now());
        this.watcher = new ExecutionWatcher(pool, series);
        this.pages = new ConsolePages(context, watcher, () -> closing);
        this.logEndpoints = new LogEndpoints(logs, () -> closing);
    }

    /** Answers the console's and the logs' paths; false (nothing sent) for any other request. */
    public boolean handle(ServerRequest req, ServerResponse res) {
        String path = req.path().rawPath();
        boolean index = path.equals("/") && wantsHtml(req);
        if (!index && !path.equals("/console") && !path.startsWith("/console/") && !path.equals("/logs")
                && !path.startsWith("/logs/")) {
            return false;
        }
        Method m = req.prologue().method();
        if (!m.equals(Method.GET) && !m.equals(Method.HEAD)) {
            error(res, 405, "method_not_allowed", "the console and the logs answer GET only");
            return true;
        }
        if (!fromLoopback(req)) {
            error(res, 403, "forbidden", "the console and the logs are for the node's operator: open them on the node's"
                    + " machine (e.g. through ssh -L 4020:127.0.0.1:4020)");
            return true;
        }
        try {
            route(path, req, res);
        } catch (IllegalArgumentException e) {
            error(res, 400, "bad_request", e.getMessage());
        } catch (IOException e) {
            // the client went away (a live stream that was closed): nothing to answer
        }
        return true;
    }

    private void route(String path, ServerRequest req, ServerResponse res) throws IOException {
        if (path.startsWith(Assets.PREFIX)) {
            if (!assets.serve(path, res)) error(res, 404, "not_found", "no such console asset: " + path);
            return;
        }
        if (path.equals("/logs")) {
            logEndpoints.index(res);
            return;
        }
        if (path.startsWith("/logs/")) {
            String rest = path.substring("/logs/".length());
            boolean stream = rest.endsWith("/stream");
            if (stream) rest = rest.substring(0, rest.length() - "/stream".length());
            LogEndpoints.Selection sel = logEndpoints.select(rest);
            if (sel == null) {
                error(res, 404, "not_found", "logs are at /logs/programs/<item hash> and /logs/vms/<vm id> (+ /stream)");
            } else if (stream) {
                logEndpoints.stream(sel, req, res);
            } else {
                logEndpoints.entries(sel, req, res);
            }
            return;
        }
        if (path.startsWith("/console/logs/")) {
            String rest = path.substring("/console/logs/".length());
            LogEndpoints.Selection sel = logEndpoints.select(rest);
            if (sel == null) error(res, 404, "not_found", "no such log: " + path);
            else logEndpoints.htmlStream(sel, rest.startsWith("programs/"), res);
            return;
        }
        pages.route(path, req, res);
    }

    /**
     * A request to a program was answered (or cut short): for the charts and the program's and
     * the VM's "recent requests". {@code vm}: the execution that served it, null if none did (it
     * failed before); {@code status} 0: the response was aborted after its head.
     */
    public void forwarded(ItemHash program, String vm, String method, String path, int status, long nanos) {
        context.series().request(new NodeSeries.Request(Instant.now(), program, vm, method,
                path.length() > 200 ? path.substring(0, 200) + "…" : path, status, nanos / 1e6));
    }

    /** Where a program's owner reads its logs, for an error body's {@code log} field. */
    public static String logUrl(ItemHash program, ServerRequest req, String nodeUri, boolean byHostname) {
        String base = byHostname ? nodeUri : (req.isSecure() ? "https://" : "http://") + req.authority();
        return base + "/console/programs/" + program.value() + "#logs";
    }

    static boolean wantsHtml(ServerRequest req) {
        return req.headers().first(HeaderNames.ACCEPT).map(a -> a.contains("text/html")).orElse(false);
    }

    private static boolean fromLoopback(ServerRequest req) {
        return req.remotePeer().address() instanceof InetSocketAddress a && a.getAddress() != null
                && a.getAddress().isLoopbackAddress();
    }

    static void html(ServerResponse res, int status, String html) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderNames.create("Content-Security-Policy"), CSP);
        res.header(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        res.header(HeaderNames.create("Referrer-Policy"), "no-referrer");
        res.send(html.getBytes(StandardCharsets.UTF_8));
    }

    static void error(ServerResponse res, int status, String code, String message) {
        if (res.isSent()) return;
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        var root = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        root.putObject("error").put("code", code).put("message", message);
        res.send(root.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Ends the live streams (they notice within a second) and the watcher. */
    @Override
    public void close() {
        closing = true;
        watcher.close();
    }
}
