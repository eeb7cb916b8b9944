package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.Encoding;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that break the request off or send what no program can take: each such request ends at
 * once (an error, or its connection closed), the VM is kept, and other requests are not held up.
 */
class HostileClientTest {
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
        assertThat(node.get(sample.message(), "/ping").body()).isEqualTo("pong");
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
    void abandonedUploadsNeitherStayInFlightNorHoldUpOtherRequests() throws Exception {
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

    JsonNode sampleExecution() throws Exception {
        JsonNode about = JSON.readTree(node.get("/about/executions/list").body());
        for (JsonNode e : about.path("executions")) {
            if (e.path("program").asText().equals(sample.message().value())) return e;
        }
        throw new AssertionError("no execution of the sample: " + about);
    }

    /** Sends bytes as they are and reads until the node closes the connection or 10 s pass. */
    String raw(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.node.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    all.write(buf, 0, n);
                    if (complete(all.toString(StandardCharsets.ISO_8859_1))) break;
                }
            } catch (SocketTimeoutException e) {
                // whatever arrived is the answer
            }
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** A response with a Content-Length whose body has fully arrived. */
    static boolean complete(String text) {
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) return false;
        for (String line : text.substring(0, end).split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return text.length() - end - 4 >= Integer.parseInt(line.substring(15).strip());
            }
        }
        return false;
    }
}
