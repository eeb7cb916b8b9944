package dev.kiln.store;

import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import static dev.kiln.store.TestData.filesUnder;
import static dev.kiln.store.TestData.flipByte;
import static dev.kiln.store.TestData.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {

    private static final ItemHash CID = ItemHash.parse("QmWVxvresoeadRbCeG4BmvsoSsqHV7VwUNuGK6nUCKKFGQ");

    @TempDir
    Path home;

    private BlobStore store;

    @BeforeEach
    void open() throws Exception {
        store = BlobStore.open(KilnHome.of(home));
    }

    @Test
    void putFileStoresAReadOnlyCopyUnderAShardedName() throws Exception {
        byte[] content = random(300_000, 1);
        Path source = Files.write(home.resolve("source.bin"), content);

        ItemHash hash = store.put(source);

        assertThat(hash).isEqualTo(ItemHash.sha256Of(content));
        Path blob = home.resolve("blobs/sha256").resolve(hash.value().substring(0, 2)).resolve(hash.value());
        assertThat(blob).hasBinaryContent(content);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(blob))).isEqualTo("r--r--r--");
        assertThat(source).exists();
        assertThat(filesUnder(home.resolve("tmp"))).isEmpty();
    }

    @Test
    void putStreamThenOpenHasListAndRemove() throws Exception {
        byte[] a = random(10, 2);
        byte[] b = random(200_000, 3);
        ItemHash ha = store.put(new ByteArrayInputStream(a));
        ItemHash hb = store.put(new ByteArrayInputStream(b));

        assertThat(store.has(ha)).isTrue();
        try (InputStream in = store.open(hb)) {
            assertThat(in.readAllBytes()).isEqualTo(b);
        }
        assertThat(store.list()).extracting(BlobInfo::hash).containsExactlyElementsOf(
                ha.compareTo(hb) < 0 ? List.of(ha, hb) : List.of(hb, ha));
        BlobInfo infoB = store.list().stream().filter(i -> i.hash().equals(hb)).findFirst().orElseThrow();
        assertThat(infoB.size()).isEqualTo(b.length);
        assertThat(infoB.modified()).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(1));

        assertThat(store.remove(ha)).isTrue();
        assertThat(store.remove(ha)).isFalse();
        assertThat(store.has(ha)).isFalse();
        assertThatThrownBy(() -> store.open(ha)).isInstanceOf(BlobNotFoundException.class).hasMessageContaining(ha.value());
        assertThat(store.list()).extracting(BlobInfo::hash).containsExactly(hb);
    }

    @Test
    void emptyContentIsABlobToo() throws Exception {
        ItemHash h = store.put(new ByteArrayInputStream(new byte[0]));
        assertThat(h.value()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(store.path(h)).isEmptyFile();
    }

    @Test
    void putWithExpectedHashRefusesMismatchAndStoresNothing() throws Exception {
        byte[] content = random(50_000, 4);
        ItemHash other = ItemHash.sha256Of(random(10, 5));

        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(content), other))
                .isInstanceOfSatisfying(HashMismatchException.class, e -> {
                    assertThat(e.expected()).isEqualTo(other);
                    assertThat(e.actual()).isEqualTo(ItemHash.sha256Of(content));
                    assertThat(e).hasMessageContaining("nothing was stored");
                });
        assertThat(store.list()).isEmpty();
        assertThat(store.has(ItemHash.sha256Of(content))).isFalse();
        assertThat(filesUnder(home.resolve("tmp"))).isEmpty();

        assertThat(store.put(new ByteArrayInputStream(content), ItemHash.sha256Of(content)))
                .isEqualTo(ItemHash.sha256Of(content));
    }

    @Test
    void cidsAreRefusedWithAnExplanation() throws Exception {
        assertThat(store.has(CID)).isFalse();
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[1]), CID))
                .isInstanceOf(UnverifiableHashException.class)
                .hasMessageStartingWith("CID item hashes cannot be verified locally;")
                .hasMessageContaining(CID.value());
        assertThatThrownBy(() -> store.open(CID)).isInstanceOf(UnverifiableHashException.class);
        assertThatThrownBy(() -> store.path(CID)).isInstanceOf(UnverifiableHashException.class);
        assertThatThrownBy(() -> store.verify(CID)).isInstanceOf(UnverifiableHashException.class);
        assertThat(store.remove(CID)).isFalse();
    }

    @Test
    void concurrentWritersOfSameAndDifferentContentAllSucceed() throws Exception {
        byte[] shared = random(1_000_000, 6);
        ItemHash sharedHash = ItemHash.sha256Of(shared);
        Path sharedFile = Files.write(home.resolve("shared.bin"), shared);
        int threads = 24;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<ItemHash>>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int i = 0; i < threads; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    start.await();
                    byte[] own = random(100_000 + n, 100 + n);
                    ItemHash fromStream = store.put(new ByteArrayInputStream(shared));
                    ItemHash fromFile = store.put(sharedFile);
                    ItemHash ownHash = store.put(new ByteArrayInputStream(own));
                    assertThat(ownHash).isEqualTo(ItemHash.sha256Of(own));
                    return List.of(fromStream, fromFile);
                }));
            }
            start.countDown();
            for (Future<List<ItemHash>> f : results) {
                assertThat(f.get()).containsOnly(sharedHash);
            }
        }
        assertThat(store.list()).hasSize(threads + 1);
        assertThat(store.path(sharedHash)).hasBinaryContent(shared);
        assertThat(store.verifyAll().corrupted()).isEmpty();
        assertThat(store.verifyAll().ok()).isEqualTo(threads + 1);
        assertThat(filesUnder(home.resolve("tmp"))).isEmpty();
    }

    @Test
    void corruptedBlobFailsTheStreamAtEndAndIsQuarantined() throws Exception {
        byte[] content = random(400_000, 7);
        ItemHash hash = store.put(new ByteArrayInputStream(content));
        Path blob = store.locate(hash);
        flipByte(blob, 123_456);
        byte[] corrupted = Files.readAllBytes(blob);

        try (InputStream in = store.open(hash)) {
            assertThatThrownBy(in::readAllBytes)
                    .isInstanceOfSatisfying(CorruptBlobException.class, e -> {
                        Corruption c = e.corruption();
                        assertThat(c.expected()).isEqualTo(hash);
                        assertThat(c.actual()).isEqualTo(ItemHash.sha256Of(corrupted));
                        assertThat(c.size()).isEqualTo(content.length);
                        assertThat(c.movedTo()).hasParent(home.resolve("quarantine")).hasBinaryContent(corrupted);
                        assertThat(e).hasMessageContaining(hash.value()).hasMessageContaining(c.actual().value())
                                .hasMessageContaining(c.movedTo().toString());
                    });
            // the stream stays failed: it never reports a clean end of file
            assertThatThrownBy(in::read).isInstanceOf(CorruptBlobException.class);
        }
        assertThat(store.has(hash)).isFalse();
        assertThat(blob).doesNotExist();
        assertThatThrownBy(() -> store.open(hash)).isInstanceOf(BlobNotFoundException.class);
    }

    @Test
    void skippingThroughACorruptedBlobStillVerifies() throws Exception {
        ItemHash hash = store.put(new ByteArrayInputStream(random(100_000, 8)));
        flipByte(store.locate(hash), 10);
        try (InputStream in = store.open(hash)) {
            assertThat(in.skip(100_000)).isEqualTo(100_000);
            assertThatThrownBy(in::read).isInstanceOf(CorruptBlobException.class);
        }
        assertThat(store.has(hash)).isFalse();
    }

    @Test
    void pathVerifiesAndRefusesACorruptedBlobEvenAfterAnEarlierSuccess() throws Exception {
        byte[] content = random(64_000, 9);
        ItemHash hash = store.put(new ByteArrayInputStream(content));
        assertThat(store.path(hash)).hasBinaryContent(content);

        flipByte(store.locate(hash), 0);

        assertThatThrownBy(() -> store.path(hash))
                .isInstanceOfSatisfying(CorruptBlobException.class,
                        e -> assertThat(e.corruption().movedTo()).exists());
        assertThat(store.has(hash)).isFalse();
        assertThat(filesUnder(home.resolve("quarantine"))).hasSize(1);
    }

    @Test
    void verifyAllReportsAndQuarantinesEveryCorruptedBlob() throws Exception {
        ItemHash good1 = store.put(new ByteArrayInputStream(random(1000, 10)));
        ItemHash bad = store.put(new ByteArrayInputStream(random(2000, 11)));
        ItemHash good2 = store.put(new ByteArrayInputStream(random(3000, 12)));
        flipByte(store.locate(bad), 1999);

        VerifyReport report = store.verifyAll();

        assertThat(report.ok()).isEqualTo(2);
        assertThat(report.bytesChecked()).isEqualTo(4000);
        assertThat(report.clean()).isFalse();
        assertThat(report.corrupted()).singleElement().satisfies(c -> {
            assertThat(c.expected()).isEqualTo(bad);
            assertThat(c.movedTo()).exists().hasParent(home.resolve("quarantine"));
        });
        assertThat(store.list()).extracting(BlobInfo::hash).containsExactlyInAnyOrder(good1, good2);

        VerifyReport again = store.verifyAll();
        assertThat(again.clean()).isTrue();
        assertThat(again.ok()).isEqualTo(2);
    }

    @Test
    void verifyOneBlob() throws Exception {
        ItemHash hash = store.put(new ByteArrayInputStream(random(777, 13)));
        assertThat(store.verify(hash).size()).isEqualTo(777);
        ItemHash absent = ItemHash.sha256Of(new byte[] {1});
        assertThatThrownBy(() -> store.verify(absent)).isInstanceOf(BlobNotFoundException.class)
                .hasMessageContaining("is not in the local store");
    }

    @Test
    void puttingTheContentAgainAfterQuarantineRestoresIt() throws Exception {
        byte[] content = random(5000, 14);
        ItemHash hash = store.put(new ByteArrayInputStream(content));
        flipByte(store.locate(hash), 1);
        assertThatThrownBy(() -> store.verify(hash)).isInstanceOf(CorruptBlobException.class);

        store.put(new ByteArrayInputStream(content));

        assertThat(store.path(hash)).hasBinaryContent(content);
    }

    @Test
    void aRewriteOfACorruptedBlobReplacesItInPlace() throws Exception {
        byte[] content = random(5000, 15);
        ItemHash hash = store.put(new ByteArrayInputStream(content));
        flipByte(store.locate(hash), 1);

        store.put(new ByteArrayInputStream(content));

        assertThat(store.verify(hash).size()).isEqualTo(5000);
        assertThat(filesUnder(home.resolve("quarantine"))).isEmpty();
    }

    @Test
    void freshBlobsAreRehashedOnEveryPathCall() throws Exception {
        ItemHash hash = store.put(new ByteArrayInputStream(random(1000, 16)));
        store.path(hash);
        store.path(hash);
        // written within the racy window: a stamp this recent could hide a same-tick change
        assertThat(store.fullVerifications()).isEqualTo(2);
    }

    @Test
    void settledBlobsAreHashedOnceUntilTheyChange() throws Exception {
        // A negative window makes a blob count as settled at once, standing in for a blob written long ago.
        BlobStore settled = BlobStore.open(KilnHome.of(home), Duration.ofSeconds(-5));
        ItemHash hash = settled.put(new ByteArrayInputStream(random(1000, 17)));

        settled.path(hash);
        settled.path(hash);
        settled.path(hash);
        assertThat(settled.fullVerifications()).isEqualTo(1);

        settled.verify(hash);
        assertThat(settled.fullVerifications()).as("verify always hashes").isEqualTo(2);

        // Removing or rewriting a blob drops its mark.
        settled.remove(hash);
        settled.put(new ByteArrayInputStream(random(1000, 17)));
        settled.path(hash);
        assertThat(settled.fullVerifications()).isEqualTo(3);
    }

    @Test
    void listSkipsFilesThatAreNotBlobs() throws Exception {
        ItemHash hash = store.put(new ByteArrayInputStream(random(10, 18)));
        Path shard = store.locate(hash).getParent();
        Files.writeString(shard.resolve("notes.txt"), "stray");
        String misplaced = (hash.value().startsWith("00") ? "ff" : "00") + hash.value().substring(2);
        Files.writeString(shard.resolve(misplaced), "wrong shard");
        Files.writeString(shard.resolve(hash.value().toUpperCase()), "upper case");

        assertThat(store.list()).extracting(BlobInfo::hash).containsExactly(hash);
        assertThat(store.verifyAll().ok()).isEqualTo(1);
    }

    @Test
    void openingRemovesOnlyStaleTempFilesOfTheStore() throws Exception {
        Path tmp = home.resolve("tmp");
        Path stale = Files.writeString(tmp.resolve("download-123.part"), "left by a crash");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path fresh = Files.writeString(tmp.resolve("put-456.part"), "being written");
        Path foreign = Files.writeString(tmp.resolve("builder-scratch"), "someone else's");
        Files.setLastModifiedTime(foreign, FileTime.from(Instant.now().minus(Duration.ofDays(2))));

        BlobStore.open(KilnHome.of(home));

        assertThat(stale).doesNotExist();
        assertThat(fresh).exists();
        assertThat(foreign).exists();
    }
}
