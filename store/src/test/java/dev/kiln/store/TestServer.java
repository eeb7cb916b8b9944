package dev.kiln.store;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** A real HTTP server on 127.0.0.1 for tests: routes by path, counts requests per path. */
public final class TestServer implements AutoCloseable {

    /** Answers one request; {@code hit} is 1 for the first request to this path. */
    @FunctionalInterface
    public interface Route {
        void handle(HttpExchange ex, int hit) throws Exception;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

    public TestServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.start();
    }

    public URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Serves {@code path} (exact) with {@code route}. */
    public TestServer route(String path, Route route) {
        AtomicInteger counter = hits.computeIfAbsent(path, p -> new AtomicInteger());
        server.createContext(path, ex -> {
            try (ex) {
                if (!ex.getRequestURI().getPath().equals(path)) {
                    ex.sendResponseHeaders(404, -1);
                    return;
                }
                route.handle(ex, counter.incrementAndGet());
            } catch (IOException e) {
                // the client went away (a cut or refused download): nothing to answer
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        return this;
    }

    public int hits(String path) {
        AtomicInteger n = hits.get(path);
        return n == null ? 0 : n.get();
    }

    public static String rawPath(dev.kiln.core.hash.ItemHash hash) {
        return "/api/v0/storage/raw/" + hash.value();
    }

    /** A 200 with Content-Length and these bytes. */
    public static void bytes(HttpExchange ex, byte[] body) throws IOException {
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            // several writes, so the client sees the body arrive in pieces
            for (int off = 0; off < body.length; off += 16 * 1024) {
                out.write(body, off, Math.min(16 * 1024, body.length - off));
            }
        }
    }

    public static void status(HttpExchange ex, int status) throws IOException {
        ex.sendResponseHeaders(status, -1);
    }

    public static void json(HttpExchange ex, String json) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        bytes(ex, json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
