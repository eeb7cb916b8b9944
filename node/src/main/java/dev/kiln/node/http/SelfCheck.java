package dev.kiln.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * {@code /status/check/fastapi} (aleph's name for it): drives the bundled sample program through
 * the whole path — real HTTP to this node's own port, program resolution, the pool (a cold start
 * if it is not running), the guest protocol both ways — and reports each check. 200 when all
 * pass, 503 otherwise.
 */
final class SelfCheck {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private final Supplier<URI> nodeUri;
    private final Supplier<ItemHash> sample;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();

    SelfCheck(Supplier<URI> nodeUri, Supplier<ItemHash> sample) {
        this.nodeUri = nodeUri;
        this.sample = sample;
    }

    /** The outcome: whether every check passed, and the JSON report. */
    record Report(boolean ok, byte[] json) {
    }

    Report run() {
        ItemHash program = sample.get();
        ObjectNode root = ErrorResponses.JSON.createObjectNode();
        if (program == null) {
            ObjectNode error = root.putObject("error");
            error.put("code", "check_failed");
            error.put("message", "no sample program is deployed on this node; start it with 'kiln node', which deploys one");
            return new Report(false, write(root));
        }
        String base = nodeUri.get().resolve("/vm/" + program.value()).toString();
        Map<String, Check> checks = new LinkedHashMap<>();
        checks.put("index", () -> {
            HttpResponse<String> r = get(base + "/");
            JsonNode j = ErrorResponses.JSON.readTree(r.body());
            return r.statusCode() == 200 && "Hello from Kiln".equals(j.path("message").asText())
                    ? null : "GET / answered " + r.statusCode() + ": " + abbreviate(r.body());
        });
        checks.put("lifespan", () -> {
            HttpResponse<String> r = get(base + "/");
            JsonNode j = ErrorResponses.JSON.readTree(r.body());
            return "started".equals(j.path("lifespan").asText()) ? null : "the ASGI lifespan startup did not run";
        });
        checks.put("request_body", () -> {
            byte[] payload = new byte[300_000];
            ThreadLocalRandom.current().nextBytes(payload);
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/echo")).timeout(TIMEOUT)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode j = ErrorResponses.JSON.readTree(r.body());
            return r.statusCode() == 200 && expected.equals(j.path("sha256").asText()) && j.path("length").asLong() == payload.length
                    ? null : "POST /echo did not get the body back intact: " + abbreviate(r.body());
        });
        checks.put("streaming", () -> {
            HttpResponse<String> r = get(base + "/stream");
            return r.statusCode() == 200 && r.body().equals("chunk 0\nchunk 1\nchunk 2\n")
                    ? null : "GET /stream answered " + r.statusCode() + ": " + abbreviate(r.body());
        });
        checks.put("not_found", () -> {
            HttpResponse<String> r = get(base + "/no-such-path");
            return r.statusCode() == 404 ? null : "GET /no-such-path answered " + r.statusCode() + ", not 404";
        });
        boolean ok = true;
        ObjectNode results = root.putObject("checks");
        for (Map.Entry<String, Check> c : checks.entrySet()) {
            long start = System.nanoTime();
            String problem;
            try {
                problem = c.getValue().run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem = "interrupted";
            } catch (Exception e) {
                problem = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            ObjectNode r = results.putObject(c.getKey());
            r.put("ok", problem == null);
            r.put("seconds", (System.nanoTime() - start) / 1e9);
            if (problem != null) {
                r.put("problem", problem);
                ok = false;
            }
        }
        root.put("ok", ok);
        root.put("program", program.value());
        if (!ok) {
            ObjectNode error = root.putObject("error");
            error.put("code", "check_failed");
            error.put("message", "the sample program did not pass every check (see checks)");
        }
        return new Report(ok, write(root));
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "…";
    }

    private static byte[] write(ObjectNode root) {
        try {
            return ErrorResponses.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    @FunctionalInterface
    private interface Check {
        /** Null when it passes, else what went wrong. */
        String run() throws Exception;
    }
}
