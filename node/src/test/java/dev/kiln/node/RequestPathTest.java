package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.hash.ProgramHostname;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.RawHttp;
import dev.kiln.node.testing.TestNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request path end to end with the real guest agent as a host process: HTTP in, program
 * resolution, the pool, the guest protocol, HTTP out; and clients that break the request off or send
 * what no program can take: each such request ends at once, the VM is kept, other requests are not
 * held up. One node and one warm program for the class.
 */
class RequestPathTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static AgentVmLauncher launcher;
    static TestNode node;
    static PublishedProgram sample;

    /** Threads that died of an exception while a test ran; the node must catch everything itself. */
    final List<String> uncaught = new CopyOnWriteArrayList<>();
    Thread.UncaughtExceptionHandler previous;

    @BeforeAll
    static void start() throws Exception {
        launcher = new AgentVmLauncher(Duration.ZERO);
        node = TestNode.withAgents(dir, launcher, c -> c);
        sample = node.publishSample(Encoding.ZIP);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    @BeforeEach
    void watchThreads() {
        previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
    }

    @AfterEach
    void restoreThreads() {
        Thread.setDefaultUncaughtExceptionHandler(previous);
        assertThat(uncaught).as("uncaught exceptions in node threads").isEmpty();
    }

    @Test
    void aProgramAnswersAtVmSlashItsHashAndStaysWarm() throws Exception {
        HttpResponse<String> first = node.get(sample.message(), "/");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(first.body());
        assertThat(body.path("message").asText()).isEqualTo("Hello from Kiln");
        assertThat(body.path("lifespan").asText()).isEqualTo("started");
        int launches = launcher.launches();
        for (int i = 0; i < 5; i++) assertThat(node.get(sample.message(), "/ping").body()).isEqualTo("pong");
        assertThat(launcher.launches()).as("warm requests reuse the VM").isEqualTo(launches);
        // Without a trailing slash the program sees "/".
        assertThat(JSON.readTree(node.get("/vm/" + sample.message().value()).body()).path("message").asText())
                .isEqualTo("Hello from Kiln");
    }

    @Test
    void variablesFromTheMessageReachTheProgram() throws Exception {
        JsonNode env = JSON.readTree(node.get(sample.message(), "/environ").body());
        assertThat(env.path("KILN_SAMPLE").asText()).isEqualTo("1");
    }

    @Test
    void queryHeadersAndMethodArePassedThrough() throws Exception {
        HttpResponse<String> r = node.send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/slow?ms=10&x=%20y"))
                .header("X-Test", "yes").GET());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("slow done");
        HttpResponse<String> missing = node.get(sample.message(), "/nothing-here");
        assertThat(missing.statusCode()).as("the program's own 404 is passed through").isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).path("path").asText()).isEqualTo("/nothing-here");
    }

    @Test
    void headAndOtherMethodsReachTheProgram() throws Exception {
        HttpResponse<String> head = node.send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/ping"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        HttpResponse<String> put = node.send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/echo"))
                .PUT(HttpRequest.BodyPublishers.ofString("twelve bytes")));
        assertThat(JSON.readTree(put.body()).path("length").asInt()).isEqualTo(12);
        // The next request on the same connections still works.
        assertThat(node.get(sample.message(), "/ping").body()).isEqualTo("pong");
    }

    @Test
    void aLargeRequestBodyStreamsIntoTheProgramIntact() throws Exception {
        byte[] payload = new byte[3_000_000];
        new Random(7).nextBytes(payload);
        HttpResponse<String> r = node.send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("length").asLong()).isEqualTo(payload.length);
        assertThat(j.path("sha256").asText()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)));
        assertThat(j.path("chunks").asInt()).as("the body arrived in pieces, not buffered whole").isGreaterThan(1);
    }

    @Test
    void aStreamingResponseArrivesChunkByChunk() throws Exception {
        HttpResponse<InputStream> r = node.http().send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/stream"))
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("transfer-encoding")).hasValue("chunked");
        List<Long> arrivals = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        long start = System.nanoTime();
        try (InputStream in = r.body()) {
            byte[] buf = new byte[64];
            for (int n; (n = in.read(buf)) > 0; ) {
                text.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                arrivals.add(System.nanoTime() - start);
            }
        }
        assertThat(text.toString()).isEqualTo("chunk 0\nchunk 1\nchunk 2\n");
        assertThat(arrivals.size()).as("several reads, one per chunk").isGreaterThanOrEqualTo(2);
    }

    @Test
    void hostnameRoutingReachesTheProgramByItsBase32Label() throws Exception {
        String label = ProgramHostname.label(sample.message());
        assertThat(rawGet("localhost:" + node.node.port(), "/metrics")).startsWith("HTTP/1.1 200");
        String answer = rawGet(label + ".kiln.localhost:" + node.node.port(), "/ping");
        assertThat(answer).startsWith("HTTP/1.1 200").endsWith("pong");
        // Every path goes to the program on its hostname, even the node's own endpoints.
        assertThat(rawGet(label + ".kiln.localhost", "/metrics")).startsWith("HTTP/1.1 404");
        // An ordinary hostname reaches the node itself.
        assertThat(rawGet("localhost:" + node.node.port(), "/metrics")).startsWith("HTTP/1.1 200");
    }

    @Test
    void unknownProgramsAndPathsAreJsonErrorsWithStableCodes() throws Exception {
        HttpResponse<String> unknown = node.get("/vm/" + "ab".repeat(32) + "/");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(error(unknown).path("code").asText()).isEqualTo("program_not_found");
        assertThat(unknown.headers().firstValue("content-type")).hasValue("application/json");

        HttpResponse<String> bad = node.get("/vm/not-a-hash/");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(error(bad).path("code").asText()).isEqualTo("bad_request");

        HttpResponse<String> nowhere = node.get("/no/such/endpoint");
        assertThat(nowhere.statusCode()).isEqualTo(404);
        assertThat(error(nowhere).path("code").asText()).isEqualTo("not_found");
    }

    @Test
    void aboutListsTheRunningExecution() throws Exception {
        node.get(sample.message(), "/ping");
        JsonNode about = JSON.readTree(node.get("/about/executions/list").body());
        assertThat(about.path("accelerator").asText()).isEqualTo("tcg");
        JsonNode mine = null;
        for (JsonNode e : about.path("executions")) {
            if (e.path("program").asText().equals(sample.message().value())) mine = e;
        }
        assertThat(mine).as(about.toString()).isNotNull();
        assertThat(mine.path("runtime").asText()).isEqualTo(node.runtime.value());
        assertThat(mine.path("state").asText()).isIn("idle", "busy", "ready");
        assertThat(mine.path("requests_served").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(mine.path("boot_seconds").asDouble()).isPositive();
        assertThat(mine.path("uptime_seconds").asDouble()).isPositive();
    }

    @Test
    void metricsExposeColdStartsBootsRequestsAndVmStates() throws Exception {
        node.get(sample.message(), "/ping");
        String metrics = node.get("/metrics").body();
        assertThat(metrics).contains("kiln_node_cold_starts_total{outcome=\"ok\",start=\"boot\"}")
                .contains("kiln_node_boot_duration_seconds_count")
                .contains("kiln_node_request_duration_seconds_count{outcome=\"2xx\"}")
                .contains("kiln_node_vms{state=\"idle\"}")
                .contains("kiln_node_memory_reserved_mebibytes");
    }

    @Test
    void theSelfCheckDrivesTheSampleThroughTheWholePath() throws Exception {
        HttpResponse<String> r = node.get("/status/check/fastapi");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("ok").asBoolean()).isTrue();
        assertThat(j.path("checks").size()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void abandonedUploadsNeitherStayInFlightNorHoldUpOtherRequests() throws Exception {
        node.get(sample.message(), "/ping");
        String head = "POST /vm/" + sample.message().value() + "/echo HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n";
        for (int i = 0; i < 100; i++) {
            try (Socket s = new Socket("127.0.0.1", node.node.port())) {
                OutputStream out = s.getOutputStream();
                out.write((head + "abc").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
        long start = System.nanoTime();
        HttpResponse<String> get = node.send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/ping"))
                .timeout(Duration.ofSeconds(5)).GET());
        HttpResponse<String> post = node.send(HttpRequest.newBuilder(node.uri("/vm/" + sample.message().value() + "/echo"))
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString("twelve bytes")));
        assertThat(get.body()).isEqualTo("pong");
        assertThat(JSON.readTree(post.body()).path("length").asInt()).isEqualTo(12);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        await().atMost(10, TimeUnit.SECONDS).until(() -> sampleExecution().path("in_flight").asInt() == 0);
    }

    @Test
    void aBrokenChunkIsABadRequestAndTheVmServesOn() throws Exception {
        node.get(sample.message(), "/ping");
        long vm = sampleExecution().path("id").asLong();
        String response = raw("POST /vm/" + sample.message().value() + "/echo HTTP/1.1\r\nHost: localhost\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz-not-a-size\r\n");
        assertThat(response).startsWith("HTTP/1.1 400");
        assertThat(response).contains("\"bad_request\"");
        assertThat(node.get(sample.message(), "/ping").body()).isEqualTo("pong");
        assertThat(sampleExecution().path("id").asLong()).as("the same VM").isEqualTo(vm);
    }

    @Test
    void tooManyHeadersIs431AndTheVmIsKept() throws Exception {
        node.get(sample.message(), "/ping");
        long vm = sampleExecution().path("id").asLong();
        int launches = launcher.launches();
        StringBuilder request = new StringBuilder("GET /vm/" + sample.message().value() + "/ping HTTP/1.1\r\nHost: localhost\r\n");
        for (int i = 0; i < 300; i++) request.append("X-H").append(i).append(": v\r\n");
        String response = raw(request.append("Connection: close\r\n\r\n").toString());
        assertThat(response).startsWith("HTTP/1.1 431");
        JsonNode error = JSON.readTree(response.substring(response.indexOf("\r\n\r\n") + 4)).path("error");
        assertThat(error.path("code").asText()).isEqualTo("too_many_headers");
        assertThat(node.get(sample.message(), "/ping").body()).isEqualTo("pong");
        assertThat(sampleExecution().path("id").asLong()).as("the same VM").isEqualTo(vm);
        assertThat(launcher.launches()).isEqualTo(launches);
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("error");
    }

    /** HTTP/1.1 by hand (java.net.http will not send a Host header of our choosing); reads one response. */
    String rawGet(String host, String path) throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.node.port())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) break;
                head.append((char) c);
            }
            int length = 0;
            for (String line : head.toString().split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).strip());
                }
            }
            return head.toString().strip() + "\n\n" + new String(in.readNBytes(length), StandardCharsets.UTF_8);
        }
    }

    static ItemHash hash(String s) {
        return ItemHash.parse(s);
    }

    JsonNode sampleExecution() throws Exception {
        JsonNode about = JSON.readTree(node.get("/about/executions/list").body());
        for (JsonNode e : about.path("executions")) {
            if (e.path("program").asText().equals(sample.message().value())) return e;
        }
        throw new AssertionError("no execution of the sample: " + about);
    }

    /** Sends bytes as they are and reads until the answer is complete, the node closes, or 10 s pass. */
    String raw(String request) throws Exception {
        return RawHttp.exchange("127.0.0.1", node.node.port(), request);
    }
}
