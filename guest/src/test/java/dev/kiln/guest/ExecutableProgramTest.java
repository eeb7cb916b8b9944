package dev.kiln.guest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** An executable program (a stdlib HTTP/1.1 server) reached through the agent's proxy. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExecutableProgramTest {
    @TempDir
    static Path dir;
    static AgentProcess agent;
    static GuestConnection guest;

    @BeforeAll
    static void start() throws Exception {
        int port = ConfigureErrorsTest.freePort();
        agent = AgentProcess.start(dir);
        guest = agent.connection;
        Configured c = guest.configure(ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                        ProgramConfig.Code.zip("server.py", Attachment.of(Zips.app("executable"))))
                .variable("PORT", Integer.toString(port)).variable("GREETING", "bonjour")
                .port(port).startupTimeout(Duration.ofSeconds(20)).build());
        assertThat(c.interfaceName()).isEqualTo("executable");
        assertThat(c.port()).isEqualTo(port);
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    @Test
    @Order(1)
    void proxiesRequestsAndReusesConnections() {
        for (int i = 0; i < 10; i++) {
            GuestResponse r = guest.request(GuestRequest.get("/hello"));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("content-type")).isEqualTo("text/plain");
            assertThat(r.bodyText()).isEqualTo("hello from executable");
        }
        // Sequential requests travel over one kept-alive upstream connection.
        assertThat(guest.request(GuestRequest.get("/connections")).bodyText()).isEqualTo("1");
    }

    @Test
    void environmentVariablesReachTheProgram() {
        assertThat(guest.request(GuestRequest.get("/env")).bodyText()).isEqualTo("bonjour");
    }

    @Test
    void bodyWithContentLengthIsForwardedAsIs() {
        byte[] body = new byte[700_000];
        String r = guest.request(GuestRequest.post("/echo", body).withHeader("content-length", "700000")).bodyText();
        assertThat(r).contains("\"length\": 700000").contains("\"cl\": \"700000\"").contains("\"te\": null");
    }

    @Test
    void streamedBodyWithoutLengthIsSentChunked() {
        InputStream slowParts = new SequenceInputStream(new ByteArrayInputStream(new byte[100_000]),
                new ByteArrayInputStream(new byte[50_000])) {
        };
        String r = guest.request(GuestRequest.get("/echo").withMethod("POST").withBody(slowParts)).bodyText();
        assertThat(r).contains("\"length\": 150000").contains("\"te\": \"chunked\"");
    }

    @Test
    void chunkedResponseIsStreamed() {
        try (GuestResponse r = guest.request(GuestRequest.get("/stream"))) {
            List<String> parts = new ArrayList<>();
            for (byte[] c = r.nextChunk(); c != null; c = r.nextChunk()) parts.add(new String(c));
            assertThat(String.join("", parts)).isEqualTo("part 0\npart 1\npart 2\npart 3\n");
            assertThat(parts.size()).isGreaterThanOrEqualTo(2);
            assertThat(r.header("transfer-encoding")).as("hop-by-hop headers are not forwarded").isNull();
        }
    }

    @Test
    void messageEventIsPostedToTheProgram() {
        GuestResponse r = guest.event("{\"item_hash\":\"evt1\",\"type\":\"POST\"}", Duration.ofSeconds(10));
        assertThat(r.bodyText()).contains("\"event\": \"message\"").contains("\"item_hash\": \"evt1\"");
    }

    @Test
    void concurrentRequestsAreProxiedInParallel() throws Exception {
        long start = System.nanoTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<String>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(CompletableFuture.supplyAsync(() -> guest.request(GuestRequest.get("/slow")).bodyText(), pool));
            }
            for (var f : all) assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo("slow done");
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5000);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void programThatExitsGives502AndALog() {
        assertThat(guest.request(GuestRequest.get("/exit")).bodyText()).isEqualTo("bye");
        await().atMost(Duration.ofSeconds(5)).until(() ->
                agent.logs.stream().anyMatch(l -> "program_exited".equals(l.kind()) && l.message().contains("status 7")));
        GuestResponse r = guest.request(GuestRequest.get("/hello").withRequestId("after-exit"));
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.bodyText()).isEqualTo("Bad Gateway (request id: after-exit)\n");
    }
}
