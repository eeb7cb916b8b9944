package dev.kiln.node.guestapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * bench/guestapi: the round trip of a guest-API read made by a program in a QEMU microVM (TCG
 * here) against the same read made directly from the host. The endpoint is a stand-in aleph API on
 * the host's loopback ({@code /api/v0/info/public.json}, 120 bytes), which the guest reaches through
 * the API's proxy; {@code /properties} and a {@code /cache} GET (answered by the node itself) are
 * measured too. Each run is {@code n} sequential requests on one kept-alive connection; the
 * figures are medians of the per-run medians. Not in the suite (no *Test name):
 * {@code bench/guestapi/run.sh [runs] [n]}.
 */
public final class GuestApiBenchmark {
    private GuestApiBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        byte[] info = ("{\"node\":\"stand-in\",\"version\":\"bench\",\"padding\":\"" + "x".repeat(64) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        HttpServer remote = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        remote.createContext("/api/v0/info/public.json", ex -> {
            ex.getResponseHeaders().add("content-type", "application/json");
            ex.sendResponseHeaders(200, info.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(info);
            }
        });
        remote.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        remote.start();
        URI base = URI.create("http://127.0.0.1:" + remote.getAddress().getPort());
        Path dir = Files.createTempDirectory("kiln-guestapi-bench");
        GuestApiSettings settings = GuestApiSettings.defaults().withRemote(base).withRequestsPerSecond(100_000);
        try (TestNode node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c.withIdleTimeout(Duration.ofMinutes(30)), List.of(),
                ProgramNetworks.disabled("no networking in this benchmark"), null, settings)) {
            ItemHash program = GuestApiPrograms.publish(node, "guestapi-bench", true, true);
            GuestApiPrograms.call(node, program, "PUT", "/cache/bench", "a value of some bytes".getBytes(StandardCharsets.UTF_8));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<Double> direct = new ArrayList<>();
            List<Double> proxied = new ArrayList<>();
            List<Double> props = new ArrayList<>();
            List<Double> cache = new ArrayList<>();
            guest(node, program, "/api/v0/info/public.json", 20); // warm both paths
            host(http, base.resolve("/api/v0/info/public.json"), 200);
            for (int r = 0; r < runs; r++) {
                direct.add(host(http, base.resolve("/api/v0/info/public.json"), n));
                proxied.add(guest(node, program, "/api/v0/info/public.json", n));
                props.add(guest(node, program, "/properties", n));
                cache.add(guest(node, program, "/cache/bench", n));
            }
            System.out.printf("guest API round trip, %d runs x %d sequential requests, medians of run medians (ms):%n", runs, n);
            System.out.printf("  host -> stand-in API directly      : %.3f  (runs %s)%n", median(direct), fmt(direct));
            System.out.printf("  guest -> guest API -> stand-in API  : %.3f  (runs %s)%n", median(proxied), fmt(proxied));
            System.out.printf("  guest -> /properties (node answers) : %.3f  (runs %s)%n", median(props), fmt(props));
            System.out.printf("  guest -> /cache/KEY (embedded)      : %.3f  (runs %s)%n", median(cache), fmt(cache));
            System.out.printf("  overhead of the guest API on a read : %.3f ms%n", median(proxied) - median(direct));
        } finally {
            remote.stop(0);
        }
    }

    /** The median round trip in ms of n requests the program makes through its guest API. */
    static double guest(TestNode node, ItemHash program, String path, int n) throws Exception {
        HttpResponse<String> r = node.get(program, "/bench?n=" + n + "&path=" + URLEncoder.encode(path, StandardCharsets.UTF_8));
        JsonNode j = GuestApiPrograms.JSON.readTree(r.body());
        if (!j.has("times")) throw new IllegalStateException("the program's benchmark failed: " + r.body());
        double[] ms = new double[j.get("times").size()];
        for (int i = 0; i < ms.length; i++) ms[i] = j.get("times").get(i).asDouble() * 1000;
        return median(ms);
    }

    static double host(HttpClient http, URI uri, int n) throws Exception {
        double[] ms = new double[n];
        HttpRequest req = HttpRequest.newBuilder(uri).GET().build();
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        return median(ms);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double median(List<Double> v) {
        return median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    static String fmt(List<Double> v) {
        return v.stream().map(d -> String.format("%.3f", d)).toList().toString();
    }
}
