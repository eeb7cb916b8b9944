package dev.kiln.store.remote;

import static dev.kiln.store.TestData.random;
import static dev.kiln.store.TestServer.bytes;
import static dev.kiln.store.TestServer.rawPath;
import static dev.kiln.store.TestServer.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.TestServer;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlephHttpSourceTest {

    /** Quick retries so the tests that exhaust them stay fast. */
    static final AlephHttpSource.Options FAST = AlephHttpSource.Options.DEFAULTS
            .withRetry(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(40)))
            .withStallTimeout(Duration.ofMillis(500));

    private static final byte[] GOOD = random(1 << 20, 42);
    private static final ItemHash GOOD_HASH = ItemHash.sha256Of(GOOD);

    @TempDir
    Path dir;

    private TestServer server;
    private AlephHttpSource source;
    private Path target;

    @BeforeEach
    void start() throws IOException {
        server = new TestServer();
        source = new AlephHttpSource(server.base(), FAST);
        target = dir.resolve("download.part");
    }

    @AfterEach
    void stop() {
        source.close();
        server.close();
    }

    @Test
    void downloadsAndReportsIncreasingProgress() throws Exception {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> bytes(ex, GOOD));
        List<long[]> calls = new CopyOnWriteArrayList<>();

        long size = source.download(GOOD_HASH, target, (received, total) -> calls.add(new long[] {received, total}));

        assertThat(size).isEqualTo(GOOD.length);
        assertThat(target).hasBinaryContent(GOOD);
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(1);
        assertThat(calls.size()).isGreaterThan(2);
        assertThat(calls).allSatisfy(c -> assertThat(c[1]).isEqualTo(GOOD.length));
        for (int i = 1; i < calls.size(); i++) {
            assertThat(calls.get(i)[0]).isGreaterThan(calls.get(i - 1)[0]);
        }
        assertThat(calls.getLast()[0]).isEqualTo(GOOD.length);
    }

    @Test
    void bytesNotMatchingTheHashAreRefusedAndNotRetried() throws Exception {
        byte[] other = random(5000, 43);
        server.route(rawPath(GOOD_HASH), (ex, hit) -> bytes(ex, other));

        assertThatThrownBy(() -> source.download(GOOD_HASH, target, DownloadProgress.NONE))
                .isInstanceOfSatisfying(HashMismatchException.class, e -> {
                    assertThat(e.expected()).isEqualTo(GOOD_HASH);
                    assertThat(e.actual()).isEqualTo(ItemHash.sha256Of(other));
                    assertThat(e).hasMessageContaining(server.base().toString()).hasMessageContaining("--remote");
                });
        assertThat(target).doesNotExist();
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(1);
    }

    @Test
    void notFoundIsReportedWithWhatToDoAndNotRetried() {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> status(ex, 404));

        assertThatThrownBy(() -> source.download(GOOD_HASH, target, DownloadProgress.NONE))
                .isInstanceOf(RemoteNotFoundException.class)
                .hasMessage("item " + GOOD_HASH + " not found on " + server.base()
                        + "/: check the hash or the --remote URL");
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(1);
        assertThat(target).doesNotExist();
    }

    @Test
    void serviceUnavailableIsRetriedUntilItWorks() throws Exception {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> {
            if (hit <= 2) status(ex, 503);
            else bytes(ex, GOOD);
        });
        List<Integer> retries = new CopyOnWriteArrayList<>();
        DownloadProgress progress = new DownloadProgress() {
            @Override
            public void progress(long received, long total) {}

            @Override
            public void retrying(int failedAttempt, Duration delay, IOException cause) {
                assertThat(cause).hasMessageContaining("HTTP 503");
                retries.add(failedAttempt);
            }
        };

        source.download(GOOD_HASH, target, progress);

        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(3);
        assertThat(retries).containsExactly(1, 2);
        assertThat(target).hasBinaryContent(GOOD);
    }

    @Test
    void tooManyRequestsIsRetriedHonouringACappedRetryAfter() throws Exception {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> {
            if (hit == 1) {
                ex.getResponseHeaders().set("Retry-After", "3600");
                status(ex, 429);
            } else {
                bytes(ex, GOOD);
            }
        });
        List<Duration> delays = new CopyOnWriteArrayList<>();
        source.download(GOOD_HASH, target, new DownloadProgress() {
            @Override
            public void progress(long received, long total) {}

            @Override
            public void retrying(int failedAttempt, Duration delay, IOException cause) {
                delays.add(delay);
            }
        });
        assertThat(delays).containsExactly(Duration.ofMillis(40));
        assertThat(target).hasBinaryContent(GOOD);
    }

    @Test
    void aBodyCutShortIsRetried() throws Exception {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> {
            if (hit == 1) {
                ex.sendResponseHeaders(200, GOOD.length);
                OutputStream out = ex.getResponseBody();
                out.write(GOOD, 0, GOOD.length / 3);
                out.flush();
                // close the exchange without sending the rest: the connection drops mid-body
            } else {
                bytes(ex, GOOD);
            }
        });

        source.download(GOOD_HASH, target, DownloadProgress.NONE);

        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(2);
        assertThat(target).hasBinaryContent(GOOD);
    }

    @Test
    void aStalledBodyIsAbandonedAndRetried() throws Exception {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> {
            if (hit == 1) {
                ex.sendResponseHeaders(200, GOOD.length);
                OutputStream out = ex.getResponseBody();
                out.write(GOOD, 0, 1000);
                out.flush();
                Thread.sleep(5_000);
            } else {
                bytes(ex, GOOD);
            }
        });
        long start = System.nanoTime();

        source.download(GOOD_HASH, target, DownloadProgress.NONE);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(2);
        assertThat(target).hasBinaryContent(GOOD);
    }

    @Test
    void persistentFailuresGiveUpAfterTheLastAttempt() {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> status(ex, 502));

        assertThatThrownBy(() -> source.download(GOOD_HASH, target, DownloadProgress.NONE))
                .isInstanceOfSatisfying(RemoteUnavailableException.class, e -> {
                    assertThat(e.attempts()).isEqualTo(3);
                    assertThat(e).hasMessageContaining("HTTP 502").hasMessageContaining("after 3 attempts");
                });
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(3);
        assertThat(target).doesNotExist();
    }

    @Test
    void anUnreachableRemoteIsRetriedThenReported() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (AlephHttpSource nowhere = new AlephHttpSource(URI.create("http://127.0.0.1:" + closedPort), FAST)) {
            assertThatThrownBy(() -> nowhere.download(GOOD_HASH, target, DownloadProgress.NONE))
                    .isInstanceOfSatisfying(RemoteUnavailableException.class,
                            e -> assertThat(e.attempts()).isEqualTo(3));
        }
        assertThat(target).doesNotExist();
    }

    @Test
    void anAnnouncedOversizedBodyIsRefusedBeforeReading() {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> bytes(ex, GOOD));
        try (AlephHttpSource limited = new AlephHttpSource(server.base(), FAST.withMaxDownloadBytes(GOOD.length - 1))) {
            assertThatThrownBy(() -> limited.download(GOOD_HASH, target, DownloadProgress.NONE))
                    .isInstanceOf(DownloadTooLargeException.class)
                    .hasMessageContaining("announced " + GOOD.length);
        }
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(1);
        assertThat(target).doesNotExist();
    }

    @Test
    void anEndlessBodyIsCutAtTheLimit() {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> {
            ex.sendResponseHeaders(200, 0); // chunked: no length announced
            try (OutputStream out = ex.getResponseBody()) {
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < 1024; i++) out.write(chunk); // 64 MiB, far past the limit
            }
        });
        try (AlephHttpSource limited = new AlephHttpSource(server.base(), FAST.withMaxDownloadBytes(1 << 20))) {
            assertThatThrownBy(() -> limited.download(GOOD_HASH, target, DownloadProgress.NONE))
                    .isInstanceOfSatisfying(DownloadTooLargeException.class,
                            e -> assertThat(e.limit()).isEqualTo(1 << 20));
        }
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(1);
        assertThat(target).doesNotExist();
    }

    @Test
    void otherClientErrorsAreNotRetried() {
        server.route(rawPath(GOOD_HASH), (ex, hit) -> status(ex, 403));
        assertThatThrownBy(() -> source.download(GOOD_HASH, target, DownloadProgress.NONE))
                .isInstanceOf(RemoteResponseException.class)
                .hasMessageContaining("HTTP 403");
        assertThat(server.hits(rawPath(GOOD_HASH))).isEqualTo(1);
    }

    @Test
    void cidsAreNotDownloaded() {
        ItemHash cid = ItemHash.parse("QmWVxvresoeadRbCeG4BmvsoSsqHV7VwUNuGK6nUCKKFGQ");
        assertThatThrownBy(() -> source.download(cid, target, DownloadProgress.NONE))
                .isInstanceOf(UnverifiableHashException.class)
                .hasMessageStartingWith("CID item hashes cannot be verified locally");
        assertThat(target).doesNotExist();
    }

    @Test
    void aBaseUrlWithAPathPrefixKeepsIt() throws Exception {
        server.route("/aleph" + rawPath(GOOD_HASH), (ex, hit) -> bytes(ex, GOOD));
        try (AlephHttpSource prefixed = new AlephHttpSource(URI.create(server.base() + "/aleph"), FAST)) {
            prefixed.download(GOOD_HASH, target, DownloadProgress.NONE);
        }
        assertThat(target).hasBinaryContent(GOOD);
    }

    @Test
    void baseUrlsMustBeHttp() {
        assertThatThrownBy(() -> new AlephHttpSource(URI.create("ftp://example.org")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http(s)");
        assertThatThrownBy(() -> new AlephHttpSource(URI.create("api2.aleph.im")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- messages

    @Test
    void fetchMessageReturnsTheMatchingMessageExactlyAsSent() throws Exception {
        ItemHash wanted = ItemHash.sha256Of("wanted".getBytes());
        ItemHash other = ItemHash.sha256Of("other".getBytes());
        String wantedJson = "{ \"item_hash\" : \"" + wanted + "\",\n  \"type\": \"STORE\", \"time\": 1700000000.123456789,"
                + " \"content\": {\"item_type\": \"storage\", \"note\": \"caf\\u00e9 {}[]\"} }";
        String response = "{\"pagination_page\": 1, \"messages\": [ {\"item_hash\": \"" + other + "\", \"x\": [1,2]}, "
                + wantedJson + " ], \"pagination_total\": 2, \"pagination_item\": \"messages\"}";
        List<String> queries = new CopyOnWriteArrayList<>();
        server.route("/api/v0/messages.json", (ex, hit) -> {
            queries.add(ex.getRequestURI().getQuery());
            TestServer.json(ex, response);
        });

        assertThat(source.fetchMessage(wanted)).isEqualTo(wantedJson);
        assertThat(queries).containsExactly("hashes=" + wanted);
    }

    @Test
    void anUnknownMessageIsNotFound() {
        ItemHash wanted = ItemHash.sha256Of("wanted".getBytes());
        server.route("/api/v0/messages.json", (ex, hit) ->
                TestServer.json(ex, "{\"messages\": [], \"pagination_total\": 0}"));

        assertThatThrownBy(() -> source.fetchMessage(wanted))
                .isInstanceOf(RemoteNotFoundException.class)
                .hasMessageStartingWith("message " + wanted + " not found on " + server.base());
    }

    @Test
    void messagesAreRetriedOnTransientErrors() throws Exception {
        ItemHash wanted = ItemHash.sha256Of("wanted".getBytes());
        String msg = "{\"item_hash\":\"" + wanted + "\"}";
        server.route("/api/v0/messages.json", (ex, hit) -> {
            if (hit == 1) status(ex, 500);
            else TestServer.json(ex, "{\"messages\":[" + msg + "]}");
        });
        assertThat(source.fetchMessage(wanted)).isEqualTo(msg);
        assertThat(server.hits("/api/v0/messages.json")).isEqualTo(2);
    }

    @Test
    void aResponseThatIsNotAMessageListIsReported() {
        ItemHash wanted = ItemHash.sha256Of("wanted".getBytes());
        server.route("/api/v0/messages.json", (ex, hit) -> TestServer.json(ex, "<html>hello</html>"));
        assertThatThrownBy(() -> source.fetchMessage(wanted))
                .isInstanceOf(RemoteResponseException.class)
                .hasMessageContaining("did not answer a messages.json document");
    }

    @Test
    void noApiAtTheBaseUrlIsReported() {
        ItemHash wanted = ItemHash.sha256Of("wanted".getBytes());
        assertThatThrownBy(() -> source.fetchMessage(wanted))
                .isInstanceOf(RemoteResponseException.class)
                .hasMessageContaining("HTTP 404")
                .hasMessageContaining("Check the --remote URL");
    }
}
