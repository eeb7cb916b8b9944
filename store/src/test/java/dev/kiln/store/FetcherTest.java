package dev.kiln.store;

import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import static dev.kiln.store.TestData.filesUnder;
import static dev.kiln.store.TestData.flipByte;
import static dev.kiln.store.TestData.random;
import static dev.kiln.store.TestServer.bytes;
import static dev.kiln.store.TestServer.rawPath;
import static dev.kiln.store.TestServer.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.remote.AlephHttpSource;
import dev.kiln.store.remote.RemoteNotFoundException;
import dev.kiln.store.remote.RetryPolicy;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FetcherTest {

    private static final AlephHttpSource.Options FAST = AlephHttpSource.Options.DEFAULTS
            .withRetry(new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(20)));
    private static final byte[] CONTENT = random(700_000, 99);
    private static final ItemHash HASH = ItemHash.sha256Of(CONTENT);

    @TempDir
    Path home;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private BlobStore store;

    @BeforeEach
    void open() throws Exception {
        store = BlobStore.open(KilnHome.of(home));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) c.close();
    }

    @Test
    void aLocalBlobIsServedWithoutAskingTheRemote() throws Exception {
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> bytes(ex, CONTENT));
        store.put(new ByteArrayInputStream(CONTENT));

        Path p = fetcher(server).ensureLocal(HASH);

        assertThat(p).isEqualTo(store.locate(HASH)).hasBinaryContent(CONTENT);
        assertThat(server.hits(rawPath(HASH))).isZero();
    }

    @Test
    void aMissingBlobIsDownloadedVerifiedAndStored() throws Exception {
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> bytes(ex, CONTENT));
        AtomicLong last = new AtomicLong();

        Path p = fetcher(server).ensureLocal(HASH, (received, total) -> last.set(received));

        assertThat(p).isEqualTo(store.locate(HASH)).hasBinaryContent(CONTENT);
        assertThat(last.get()).isEqualTo(CONTENT.length);
        assertThat(store.has(HASH)).isTrue();
        assertThat(filesUnder(home.resolve("tmp"))).isEmpty();
        // second call is a local hit
        fetcher(server).ensureLocal(HASH);
        assertThat(server.hits(rawPath(HASH))).isEqualTo(1);
    }

    @Test
    void corruptedDownloadsLeaveNothingBehind() throws Exception {
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> bytes(ex, random(CONTENT.length, 7)));

        assertThatThrownBy(() -> fetcher(server).ensureLocal(HASH)).isInstanceOf(HashMismatchException.class);

        assertThat(store.has(HASH)).isFalse();
        assertThat(store.list()).isEmpty();
        assertThat(filesUnder(home.resolve("tmp"))).isEmpty();
        assertThat(filesUnder(home.resolve("blobs"))).isEmpty();
    }

    @Test
    void remotesAreTriedInOrderUntilOneHasGoodBytes() throws Exception {
        TestServer missing = server();
        missing.route(rawPath(HASH), (ex, hit) -> status(ex, 404));
        TestServer lying = server();
        lying.route(rawPath(HASH), (ex, hit) -> bytes(ex, random(100, 1)));
        TestServer good = server();
        good.route(rawPath(HASH), (ex, hit) -> bytes(ex, CONTENT));

        Path p = fetcher(missing, lying, good).ensureLocal(HASH);

        assertThat(p).hasBinaryContent(CONTENT);
        assertThat(List.of(missing.hits(rawPath(HASH)), lying.hits(rawPath(HASH)), good.hits(rawPath(HASH))))
                .containsExactly(1, 1, 1);
        assertThat(filesUnder(home.resolve("tmp"))).isEmpty();
    }

    @Test
    void whenEveryRemoteFailsEachFailureIsReported() throws Exception {
        TestServer a = server();
        a.route(rawPath(HASH), (ex, hit) -> status(ex, 404));
        TestServer b = server();
        b.route(rawPath(HASH), (ex, hit) -> status(ex, 404));

        assertThatThrownBy(() -> fetcher(a, b).ensureLocal(HASH))
                .isInstanceOfSatisfying(FetchFailedException.class, e -> {
                    assertThat(e.getSuppressed()).hasSize(2).allMatch(s -> s instanceof RemoteNotFoundException);
                    assertThat(e).hasMessageContaining(a.base().toString()).hasMessageContaining(b.base().toString());
                });
    }

    @Test
    void concurrentRequestsForTheSameItemDownloadOnce() throws Exception {
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> {
            Thread.sleep(300); // keep the download in flight while the others arrive
            bytes(ex, CONTENT);
        });
        Fetcher fetcher = fetcher(server);
        int callers = 16;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Path>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            for (int i = 0; i < callers; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return fetcher.ensureLocal(HASH);
                }));
            }
            start.countDown();
            for (Future<Path> f : results) assertThat(f.get()).isEqualTo(store.locate(HASH));
        }
        assertThat(server.hits(rawPath(HASH))).isEqualTo(1);
        assertThat(store.path(HASH)).hasBinaryContent(CONTENT);
    }

    @Test
    void aFailureIsSharedByEveryoneWaitingOnTheSameDownload() throws Exception {
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> {
            Thread.sleep(300);
            status(ex, 404);
        });
        Fetcher fetcher = fetcher(server);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Path>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return fetcher.ensureLocal(HASH);
                }));
            }
            start.countDown();
            for (Future<Path> f : results) {
                assertThatThrownBy(f::get).hasCauseInstanceOf(RemoteNotFoundException.class);
            }
        }
        assertThat(server.hits(rawPath(HASH))).isEqualTo(1);
    }

    @Test
    void differentItemsDownloadInParallel() throws Exception {
        byte[] other = random(300_000, 98);
        ItemHash otherHash = ItemHash.sha256Of(other);
        // Each response waits until both requests are in: if downloads were serialised, neither would finish.
        CyclicBarrier bothArrived = new CyclicBarrier(2);
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> {
            awaitOr404(bothArrived, ex);
            bytes(ex, CONTENT);
        });
        server.route(rawPath(otherHash), (ex, hit) -> {
            awaitOr404(bothArrived, ex);
            bytes(ex, other);
        });
        Fetcher fetcher = fetcher(server);

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Path> a = pool.submit(() -> fetcher.ensureLocal(HASH));
            Future<Path> b = pool.submit(() -> fetcher.ensureLocal(otherHash));
            assertThat(a.get(20, TimeUnit.SECONDS)).hasBinaryContent(CONTENT);
            assertThat(b.get(20, TimeUnit.SECONDS)).hasBinaryContent(other);
        }
    }

    @Test
    void aCorruptedLocalBlobWithNoRemoteIsReportedAsCorruptedNotMissing() throws Exception {
        ItemHash h = store.put(new ByteArrayInputStream(CONTENT));
        flipByte(store.locate(h), 4321);
        Fetcher local = new Fetcher(store, List.of());

        assertThatThrownBy(() -> local.ensureLocal(h))
                .isInstanceOfSatisfying(CorruptBlobException.class,
                        e -> assertThat(e.corruption().expected()).isEqualTo(h));
        assertThat(store.has(h)).isFalse();
        // once quarantined, it is simply missing
        assertThatThrownBy(() -> local.ensureLocal(h)).isInstanceOf(BlobNotFoundException.class);
    }

    @Test
    void aCorruptedLocalBlobIsQuarantinedAndFetchedAgain() throws Exception {
        TestServer server = server();
        server.route(rawPath(HASH), (ex, hit) -> bytes(ex, CONTENT));
        store.put(new ByteArrayInputStream(CONTENT));
        flipByte(store.locate(HASH), 5);

        Path p = fetcher(server).ensureLocal(HASH);

        assertThat(p).hasBinaryContent(CONTENT);
        assertThat(server.hits(rawPath(HASH))).isEqualTo(1);
        assertThat(filesUnder(home.resolve("quarantine"))).hasSize(1);
    }

    @Test
    void withoutRemotesAMissingItemSaysHowToConfigureOne() {
        Fetcher fetcher = new Fetcher(store, List.of());
        assertThatThrownBy(() -> fetcher.ensureLocal(HASH))
                .isInstanceOf(BlobNotFoundException.class)
                .hasMessageContaining(HASH.value())
                .hasMessageContaining("--remote or set KILN_REMOTE");
    }

    @Test
    void cidsAreRefused() throws Exception {
        TestServer server = server();
        ItemHash cid = ItemHash.parse("QmWVxvresoeadRbCeG4BmvsoSsqHV7VwUNuGK6nUCKKFGQ");
        assertThatThrownBy(() -> fetcher(server).ensureLocal(cid))
                .isInstanceOf(UnverifiableHashException.class)
                .hasMessageStartingWith("CID item hashes cannot be verified locally");
    }

    @Test
    void messagesComeFromTheFirstRemoteThatHasThem() throws Exception {
        ItemHash msg = ItemHash.sha256Of("store message".getBytes());
        String json = "{\"item_hash\":\"" + msg + "\",\"type\":\"STORE\"}";
        TestServer empty = server();
        empty.route("/api/v0/messages.json", (ex, hit) -> TestServer.json(ex, "{\"messages\":[]}"));
        TestServer full = server();
        full.route("/api/v0/messages.json", (ex, hit) -> TestServer.json(ex, "{\"messages\":[" + json + "]}"));

        assertThat(fetcher(empty, full).fetchMessage(msg)).isEqualTo(json);
        assertThatThrownBy(() -> fetcher(empty).fetchMessage(msg)).isInstanceOf(RemoteNotFoundException.class);
    }

    // ---------------------------------------------------------------- helpers

    private TestServer server() throws Exception {
        TestServer s = new TestServer();
        toClose.add(s);
        return s;
    }

    private Fetcher fetcher(TestServer... servers) {
        List<AlephHttpSource> sources = new ArrayList<>();
        for (TestServer s : servers) {
            AlephHttpSource source = new AlephHttpSource(s.base(), FAST);
            toClose.add(source);
            sources.add(source);
        }
        return new Fetcher(store, sources);
    }

    private static void awaitOr404(CyclicBarrier barrier, HttpExchange ex) throws Exception {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (TimeoutException serialised) {
            status(ex, 404);
            throw serialised;
        }
    }
}
