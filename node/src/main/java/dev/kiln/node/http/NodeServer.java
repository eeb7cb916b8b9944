package dev.kiln.node.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.console.WebConsole;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.pool.ExecutionPool;
import io.helidon.webserver.WebServer;
import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The node's HTTP side: Helidon SE's webserver (a virtual thread per request) with one routing
 * handler. Started and stopped by {@code Node}.
 */
public final class NodeServer implements AutoCloseable {
    private final WebServer server;
    private final String host;
    private final WebConsole console;

    private NodeServer(WebServer server, String host, WebConsole console) {
        this.server = server;
        this.host = host;
        this.console = console;
    }

    /**
     * @param sample  the bundled sample program's hash for the self check, or a supplier of null
     * @param console the web console and log endpoints (closed with the server)
     * @param allocations the operator API's control layer, behind {@code token}
     * @param machines    the long-running machines /about/executions/list shows beside the executions
     */
    public static NodeServer start(String host, int port, ExecutionPool pool, NodeMetrics metrics, String accelerator,
                                   Supplier<ItemHash> sample, String version, WebConsole console,
                                   dev.kiln.node.control.Allocations allocations, dev.kiln.node.control.OperatorToken token,
                                   java.util.List<dev.kiln.node.control.Machines> machines, MessageEndpoint messages) {
        URI[] self = new URI[1];
        ProgramForwarder forwarder = new ProgramForwarder(pool, metrics);
        AboutEndpoint about = new AboutEndpoint(pool, accelerator, machines);
        SelfCheck check = new SelfCheck(() -> self[0], sample);
        ObjectNode index = ErrorResponses.JSON.createObjectNode();
        index.put("name", "kiln node");
        index.put("version", version);
        index.put("accelerator", accelerator);
        index.putArray("endpoints").add("/vm/{item_hash}/{path}").add("/about/executions/list").add("/about/volumes")
                .add("/about/allocations").add("/about/deliveries").add("POST /api/v0/messages (operator token)")
                .add("/control/... (operator API, token required: docs/operator-api.md)")
                .add("/status/check/fastapi").add("/metrics").add("/logs").add("/console (HTML, also / for a browser)");
        byte[] indexJson;
        try {
            indexJson = ErrorResponses.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index);
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
        NodeRouting routing = new NodeRouting(forwarder, about, check, metrics::scrape, indexJson, console, () -> self[0],
                new ControlEndpoint(allocations, token), messages);
        WebServer server = WebServer.builder()
                .host(host)
                .port(port)
                .shutdownHook(false)
                .shutdownGracePeriod(Duration.ofSeconds(2))
                // A proxy's small writes (a head, one chunk) must not wait for the client's ACK.
                .connectionOptions(o -> o.tcpNoDelay(true))
                .directHandlers(DirectErrors.handlers())
                .routing(r -> r.any(routing))
                .build()
                .start();
        if (!server.isRunning()) {
            throw new IllegalStateException("the webserver did not start on " + host + ":" + port + " (see its log above)");
        }
        NodeServer s = new NodeServer(server, host, console);
        self[0] = s.uri();
        return s;
    }

    public int port() {
        return server.port();
    }

    /** Where clients reach the node; a wildcard bind address is reached through the loopback. */
    public URI uri() {
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        if (h.contains(":") && !h.startsWith("[")) h = "[" + h + "]";
        return URI.create("http://" + h + ":" + port());
    }

    @Override
    public void close() {
        console.close(); // its live streams end, so the webserver's stop does not wait for them
        server.stop();
    }
}
