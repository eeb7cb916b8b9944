package dev.kiln.store;

import dev.kiln.store.failure.HashMismatchException;
import static dev.kiln.store.TestData.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.store.remote.AlephHttpSource;
import dev.kiln.store.remote.DownloadProgress;
import dev.kiln.store.remote.RetryPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * References to files: local publications and their amends, and STORE messages plus files fetched
 * from a real HTTP remote (one that serves a tampered message, a corrupted file, nothing at all).
 */
class ItemResolverTest {

    private static final AlephHttpSource.Options FAST = AlephHttpSource.Options.DEFAULTS
            .withRetry(new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(20)));
    private static final String ALICE = "0x" + "a1".repeat(20);

    @TempDir Path dir;

    private KilnHome home;
    private BlobStore blobs;
    private StoreRecords records;
    private TestServer server;
    private AlephHttpSource remote;

    @BeforeEach
    void open() throws Exception {
        home = KilnHome.of(dir.resolve("home"));
        blobs = BlobStore.open(home);
        records = home.openStoreRecords();
        server = new TestServer();
        remote = new AlephHttpSource(server.base(), FAST);
    }

    @AfterEach
    void close() {
        records.close();
        remote.close();
        server.close();
    }

    private ItemResolver localOnly() {
        return new ItemResolver(blobs, records, new Fetcher(blobs, List.of()));
    }

    private ItemResolver withRemote() {
        return new ItemResolver(blobs, records, new Fetcher(blobs, List.of(remote)));
    }

    private Path file(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static Clock at(long epochSecond) {
        return Clock.fixed(Instant.ofEpochSecond(epochSecond), ZoneOffset.UTC);
    }

    @Test
    void aLocalPublicationResolvesToItsVerifiedFile() throws Exception {
        byte[] bytes = random(50_000, 1);
        StoreRecord published = LocalPublisher.open(home, blobs, records).publish(file("rt", bytes), null);

        ItemResolver.Resolved r = localOnly().resolve(published.messageHash(), false, DownloadProgress.NONE);

        assertThat(r.message()).contains(published);
        assertThat(r.fileHash()).isEqualTo(ItemHash.sha256Of(bytes));
        assertThat(Files.readAllBytes(r.file())).isEqualTo(bytes);
        assertThat(published.messageHash()).isNotEqualTo(r.fileHash());
    }

    @Test
    void useLatestFollowsAmendsAndWithoutItTheExactMessageWins() throws Exception {
        LocalPublisher v1Publisher = LocalPublisher.open(home, blobs, records, ALICE, at(1_700_000_000));
        LocalPublisher v2Publisher = LocalPublisher.open(home, blobs, records, ALICE, at(1_700_000_100));
        byte[] one = random(1000, 2);
        byte[] two = random(1000, 3);
        StoreRecord v1 = v1Publisher.publish(file("v1", one), null);
        StoreRecord v2 = v2Publisher.publish(file("v2", two), v1.messageHash());

        assertThat(v2.amends()).contains(v1.messageHash());
        assertThat(Files.readAllBytes(localOnly().resolve(v1.messageHash(), true, DownloadProgress.NONE).file())).isEqualTo(two);
        assertThat(Files.readAllBytes(localOnly().resolve(v1.messageHash(), false, DownloadProgress.NONE).file())).isEqualTo(one);
    }

    @Test
    void anAmendOfAnUnknownMessageOrOfAnotherSendersMessageIsRefused() throws Exception {
        Path f = file("f", random(100, 4));
        ItemHash unknown = ItemHash.sha256Of("nothing".getBytes());
        assertThatThrownBy(() -> LocalPublisher.open(home, blobs, records).publish(f, unknown))
                .isInstanceOf(PublishException.class).hasMessageContaining("no STORE message with that hash");

        StoreRecord alices = LocalPublisher.open(home, blobs, records, ALICE, at(1_700_000_000)).publish(f, null);
        assertThatThrownBy(() -> LocalPublisher.open(home, blobs, records, "0x" + "b2".repeat(20), at(1_700_000_001))
                .publish(f, alices.messageHash()))
                .isInstanceOf(PublishException.class).hasMessageContaining("use_latest only follows amends by the same sender");
    }

    @Test
    void thePublisherAddressIsCreatedOnceAndKept() throws Exception {
        String first = LocalPublisher.open(home, blobs, records, null, Clock.systemUTC()).sender();
        String again = LocalPublisher.open(home, blobs, records, null, Clock.systemUTC()).sender();
        assertThat(first).matches("0x[0-9a-f]{40}").isEqualTo(again);
        assertThat(LocalPublisher.open(home, blobs, records, ALICE, Clock.systemUTC()).sender()).isEqualTo(ALICE);
    }

    @Test
    void aRemoteStoreMessageAndItsFileAreFetchedVerifiedAndRecorded() throws Exception {
        Published p = publishElsewhere(random(200_000, 5));
        server.route("/api/v0/messages.json", (ex, hit) -> TestServer.json(ex, "{\"messages\":[" + p.json + "]}"));
        server.route(TestServer.rawPath(p.fileHash), (ex, hit) -> TestServer.bytes(ex, p.bytes));

        ItemResolver.Resolved r = withRemote().resolve(p.messageHash, true, DownloadProgress.NONE);

        assertThat(Files.readAllBytes(r.file())).isEqualTo(p.bytes);
        assertThat(records.find(p.messageHash)).isPresent();
        // a second resolution needs the remote no more
        server.close();
        assertThat(localOnly().resolve(p.messageHash, true, DownloadProgress.NONE).fileHash()).isEqualTo(p.fileHash);
    }

    @Test
    void aTamperedRemoteMessageIsRefusedAndNotRecorded() throws Exception {
        Published p = publishElsewhere(random(1000, 6));
        String tampered = p.json.replace("\\\"size\\\":1000", "\\\"size\\\":1001");
        assertThat(tampered).isNotEqualTo(p.json);
        server.route("/api/v0/messages.json", (ex, hit) -> TestServer.json(ex, "{\"messages\":[" + tampered + "]}"));

        assertThatThrownBy(() -> withRemote().resolve(p.messageHash, false, DownloadProgress.NONE))
                .isInstanceOf(InvalidStoreMessageException.class)
                .hasMessageContaining(p.messageHash.value());
        assertThat(records.find(p.messageHash)).isEmpty();
    }

    @Test
    void aCorruptedRemoteFileNeverEntersTheStore() throws Exception {
        Published p = publishElsewhere(random(30_000, 7));
        byte[] corrupted = p.bytes.clone();
        corrupted[12_345] ^= 1;
        server.route("/api/v0/messages.json", (ex, hit) -> TestServer.json(ex, "{\"messages\":[" + p.json + "]}"));
        server.route(TestServer.rawPath(p.fileHash), (ex, hit) -> TestServer.bytes(ex, corrupted));

        assertThatThrownBy(() -> withRemote().resolve(p.messageHash, false, DownloadProgress.NONE))
                .isInstanceOf(HashMismatchException.class);
        assertThat(blobs.has(p.fileHash)).isFalse();
    }

    @Test
    void anUnknownReferenceSaysHowToFetchIt() {
        ItemHash unknown = ItemHash.sha256Of("unknown".getBytes());
        assertThatThrownBy(() -> localOnly().resolve(unknown, true, DownloadProgress.NONE))
                .isInstanceOf(BlobNotFoundException.class)
                .hasMessageContaining("--remote");
    }

    @Test
    void aFileHashIsAcceptedAsItsOwnReference() throws Exception {
        byte[] bytes = random(4000, 8);
        ItemHash h = blobs.put(file("raw", bytes));
        ItemResolver.Resolved r = localOnly().resolve(h, true, DownloadProgress.NONE);
        assertThat(r.message()).isEmpty();
        assertThat(r.fileHash()).isEqualTo(h);
        assertThat(Files.readAllBytes(r.file())).isEqualTo(bytes);
    }

    private record Published(ItemHash messageHash, ItemHash fileHash, String json, byte[] bytes) {}

    /** A STORE message made by another Kiln home, as a remote would serve it. */
    private Published publishElsewhere(byte[] bytes) throws Exception {
        KilnHome other = KilnHome.of(dir.resolve("elsewhere"));
        try (StoreRecords otherRecords = other.openStoreRecords()) {
            StoreRecord r = LocalPublisher.open(other, BlobStore.open(other), otherRecords, ALICE, at(1_700_000_000))
                    .publish(file("elsewhere-file", bytes), null);
            return new Published(r.messageHash(), r.fileHash(), r.messageJson(), bytes);
        }
    }
}
