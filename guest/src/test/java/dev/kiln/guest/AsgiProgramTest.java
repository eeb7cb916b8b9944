package dev.kiln.guest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** One agent serving the test ASGI app (zip code, data zip, variables, keys) for all tests here. */
class AsgiProgramTest {
    @TempDir
    static Path dir;
    static AgentProcess agent;
    static GuestConnection guest;
    static Configured configured;

    @BeforeAll
    static void startAndConfigure() throws Exception {
        agent = AgentProcess.start(dir);
        guest = agent.connection;
        byte[] data = Zips.of(Map.of("input/hello.txt", "data from the zip".getBytes(), "top.txt", "top".getBytes()));
        configured = guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                        ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi"))))
                .itemHash("0f202000a3c07b1ba5aa02d4f2a93910977742be3e58345b78fe83bb925ba2b2")
                .variable("VM_CUSTOM_NUMBER", "32")
                .variable("SHUTDOWN_MARKER", dir.resolve("shutdown-marker").toString())
                .data(Attachment.of(data))
                .sshAuthorizedKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtest user@host")
                .volume(new ProgramConfig.Volume("/dev/vdc", "/opt/venv", true, null))
                .network(new ProgramConfig.Network(null, "172.16.3.2/24", "172.16.3.1", List.of("9.9.9.9")))
                .hostname("vm-test")
                .build());
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    private static GuestResponse get(String path) {
        return guest.request(GuestRequest.get(path));
    }

    @Test
    void configureReportsLifespanAndSkippedSystemStepsWithoutFakingThem() {
        assertThat(configured.interfaceName()).isEqualTo("asgi");
        assertThat(configured.lifespan()).isEqualTo("supported");
        assertThat(configured.skipped()).extracting(Configured.Skipped::step)
                .containsExactlyInAnyOrder("volumes", "network", "hostname");
        assertThat(configured.skipped()).allSatisfy(s -> assertThat(s.reason()).contains("not in system mode"));
    }

    @Test
    void lifespanStartupRanBeforeTheFirstRequest() {
        GuestResponse r = get("/state");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).contains("\"lifespan\": \"startup\"");
    }

    @Test
    void requestHeadReachesTheAppUnchanged() {
        GuestResponse r = guest.request(GuestRequest.get("/state").withQuery("a=1&b=%20x").withHeader("X-Custom", "caf\u00e9")
                .withMethod("PUT"));
        String body = r.bodyText();
        assertThat(body).contains("\"x-custom\": \"caf\\u00e9\"").contains("\"query\": \"a=1&b=%20x\"")
                .contains("\"method\": \"PUT\"");
    }

    @Test
    void environmentVariablesAreVisibleToTheApp() {
        assertThat(guest.request(GuestRequest.get("/env").withQuery("name=VM_CUSTOM_NUMBER")).bodyText()).isEqualTo("32");
    }

    @Test
    void dataZipIsUnpackedAndSshKeysAreWritten() throws Exception {
        Path data = agent.root.resolve("data/input/hello.txt");
        assertThat(Files.readString(data)).isEqualTo("data from the zip");
        assertThat(guest.request(GuestRequest.get("/file").withQuery("path=" + data)).bodyText()).isEqualTo("data from the zip");
        Path keys = agent.root.resolve("root/.ssh/authorized_keys");
        assertThat(Files.readString(keys)).isEqualTo("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJtest user@host\n");
        assertThat(Files.getPosixFilePermissions(keys)).extracting(Object::toString)
                .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
    }

    @Test
    void streamingResponseArrivesInSeveralChunksAsProduced() {
        long start = System.nanoTime();
        try (GuestResponse r = get("/stream")) {
            byte[] first = r.nextChunk();
            long firstAt = System.nanoTime() - start;
            List<String> chunks = new ArrayList<>(List.of(new String(first)));
            for (byte[] c = r.nextChunk(); c != null; c = r.nextChunk()) chunks.add(new String(c));
            long total = System.nanoTime() - start;
            assertThat(chunks).containsExactly("chunk 0\n", "chunk 1\n", "chunk 2\n", "chunk 3\n", "chunk 4\n");
            // The first chunk came long before the app finished (it sleeps 150 ms between chunks).
            assertThat(total - firstAt).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(450));
        }
    }

    @Test
    void requestBodyInSeveralChunksIsReceivedWhole() throws Exception {
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(body);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        String answer = guest.request(GuestRequest.post("/echo", body)).bodyText();
        // 3 MiB is twelve times the initial window: this only completes if WINDOW frames flow.
        assertThat(answer).contains("\"length\": " + body.length).contains(sha);
        int chunks = Integer.parseInt(answer.replaceAll(".*\"chunks\": (\\d+).*", "$1"));
        assertThat(chunks).isGreaterThanOrEqualTo(body.length / (64 * 1024));
    }

    @Test
    void largeResponseFlowsThroughTheWindow() {
        int size = 5 * 1024 * 1024;
        assertThat(guest.request(GuestRequest.get("/big").withQuery("size=" + size)).readAllBytes()).hasSize(size);
    }

    @Test
    void crashingRouteGivesASafe500AndTheAgentKeepsServing() {
        GuestResponse r = guest.request(GuestRequest.get("/crash").withRequestId("req-crash-1"));
        String body = r.bodyText();
        assertThat(r.status()).isEqualTo(500);
        assertThat(body).isEqualTo("Internal Server Error (request id: req-crash-1)\n");
        assertThat(body).doesNotContain("secret", "Traceback");
        assertThat(r.header("x-kiln-request-id")).isEqualTo("req-crash-1");
        await().atMost(Duration.ofSeconds(5)).until(() -> agent.logs.stream().anyMatch(l ->
                "req-crash-1".equals(l.requestId()) && l.traceback() != null && l.traceback().contains("secret internal detail 42")));
        assertThat(get("/hello").bodyText()).isEqualTo("hello");
    }

    @Test
    void crashAfterTheResponseStartedAbortsTheStream() {
        GuestResponse r = get("/crash-after-start");
        assertThat(r.status()).isEqualTo(200);
        assertThatThrownBy(r::readAllBytes).isInstanceOf(GuestStreamException.class)
                .satisfies(e -> assertThat(((GuestStreamException) e).code()).isEqualTo("app_error"));
        assertThat(get("/hello").bodyText()).isEqualTo("hello");
    }

    @Test
    void sixtyConcurrentSlowRequestsShareOneChannel() throws Exception {
        int n = 60;
        long start = System.nanoTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<String>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                all.add(CompletableFuture.supplyAsync(() ->
                        guest.request(GuestRequest.get("/slow").withQuery("ms=1000")).bodyText(), pool));
            }
            for (var f : all) assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo("slow done");
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // Sequential would be 60 s; multiplexed is about one slow time plus overhead.
        assertThat(ms).isLessThan(4000);
    }

    @Test
    void messageEventIsAnsweredLikeARequest() {
        GuestResponse r = guest.event("{\"item_hash\":\"abc123\",\"type\":\"POST\",\"content\":{\"x\":1}}", Duration.ofSeconds(10));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.bodyText()).contains("\"received\":\"abc123\"").contains("\"scope_has_message\":true");
    }

    @Test
    void cancellingAPendingRequestCancelsTheHandler() throws Exception {
        int before = cancelledCount();
        CompletableFuture<GuestResponse> pending = guest.requestAsync(GuestRequest.get("/wait-forever"));
        Thread.sleep(300);
        pending.cancel(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> cancelledCount() > before);
        assertThat(get("/hello").bodyText()).isEqualTo("hello");
    }

    @Test
    void aRequestThatTimesOutIsCancelledOnTheAgent() {
        int before = cancelledCount();
        assertThatThrownBy(() -> guest.request(GuestRequest.get("/wait-forever").withTimeout(Duration.ofMillis(300))))
                .isInstanceOf(GuestTimeoutException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> cancelledCount() > before);
    }

    private static int cancelledCount() {
        String s = get("/state").bodyText();
        return Integer.parseInt(s.replaceAll(".*\"cancelled\": (\\d+).*", "$1"));
    }

    @Test
    void closingAResponseEarlyCancelsItAndTheChannelStaysUsable() {
        GuestResponse r = guest.request(GuestRequest.get("/big").withQuery("size=" + (20 * 1024 * 1024)));
        assertThat(r.nextChunk()).isNotEmpty();
        r.close();
        assertThat(get("/hello").bodyText()).isEqualTo("hello");
        await().atMost(Duration.ofSeconds(5)).until(() -> guest.inFlight() == 0);
    }

    @Test
    void pingWhileServing() {
        assertThat(guest.ping(Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void secondConfigureIsRefused() {
        assertThatThrownBy(() -> guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.plain("main:app", "app = None".getBytes(StandardCharsets.UTF_8))).build()))
                .isInstanceOf(GuestStreamException.class)
                .satisfies(e -> assertThat(((GuestStreamException) e).code()).isEqualTo("already_configured"));
    }

    // ------------------------------------------------------------------ one stream failing, the channel serving on

    /** What a web server's body stream does when the client sends a bad chunk or less than its Content-Length. */
    static InputStream brokenBody() {
        return new InputStream() {
            private int sent;

            @Override
            public int read() {
                if (sent++ < 3) return 'x';
                throw new IllegalStateException("the client sent 3 bytes of a 1000-byte body, then closed");
            }
        };
    }

    @Test
    void aBodyThatBreaksMidwayCancelsItsStreamOnTheAgent() {
        assertThatThrownBy(() -> guest.request(GuestRequest.get("/echo").withMethod("POST").withBody(brokenBody())))
                .isInstanceOf(GuestRequestBodyException.class)
                .hasRootCauseMessage("the client sent 3 bytes of a 1000-byte body, then closed")
                .satisfies(e -> assertThat(((GuestStreamException) e).errorCode()).isEqualTo(GuestErrorCode.BODY_FAILED));
        await().atMost(5, TimeUnit.SECONDS).until(() -> guest.inFlight() == 0);
        GuestResponse echo = guest.request(GuestRequest.post("/echo", "twelve bytes".getBytes(StandardCharsets.UTF_8)));
        assertThat(echo.status()).isEqualTo(200);
        assertThat(echo.bodyText()).contains("\"length\": 12");
    }

    @Test
    void moreBrokenBodiesThanTheAgentHasStreamsLeaveItServing() {
        // The agent accepts 256 open streams: had it kept the broken ones, it would refuse from the 257th.
        int streams = guest.hello().maxStreams();
        for (int i = 0; i < streams + 44; i++) {
            assertThatThrownBy(() -> guest.request(GuestRequest.get("/echo").withMethod("POST").withBody(brokenBody())
                    .withTimeout(Duration.ofSeconds(10)))).isInstanceOf(GuestRequestBodyException.class);
        }
        GuestResponse echo = guest.request(GuestRequest.post("/echo", "after".getBytes(StandardCharsets.UTF_8)));
        assertThat(echo.status()).isEqualTo(200);
        assertThat(guest.ping(Duration.ofSeconds(5))).isPositive();
    }

    @Test
    void aHeadTheAgentRefusesFailsThatRequestOnlyWithItsCode() {
        assertThatThrownBy(() -> guest.request(GuestRequest.get("/state").withHeader("bad name", "v")))
                .isInstanceOf(GuestRequestRefusedException.class)
                .satisfies(e -> assertThat(((GuestStreamException) e).errorCode()).isEqualTo(GuestErrorCode.BAD_REQUEST));
        assertThat(guest.isOpen()).isTrue();
        assertThat(guest.request(GuestRequest.get("/state")).status()).isEqualTo(200);
    }
}
