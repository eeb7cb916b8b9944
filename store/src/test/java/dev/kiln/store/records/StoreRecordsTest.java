package dev.kiln.store.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.KilnHome;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreRecordsTest {

    private static final String ALICE = "0x9319Ad3B7A8E0eE24f2E639c40D8eD124C5520Ba";
    private static final String MALLORY = "0xb5F010860b0964090d5414406273E6b3A8726E96";
    private static final AtomicInteger SEQ = new AtomicInteger();

    @TempDir
    Path home;

    private StoreRecords records;

    @BeforeEach
    void open() throws Exception {
        records = KilnHome.of(home).openStoreRecords();
    }

    @AfterEach
    void close() {
        records.close();
    }

    @Test
    void recordsRoundTripThroughARealFileUnderTheHome() throws Exception {
        ItemHash msg = hash("msg");
        ItemHash file = hash("file");
        Instant time = Instant.parse("2024-03-01T12:00:00.123456Z");
        String json = "{\"item_hash\": \"" + msg + "\",  \"time\": 1709294400.123456, \"note\": \"\\u00e9\"}";
        StoreRecord r = new StoreRecord(msg, ALICE, file, StoreRecord.ItemType.STORAGE, null, 52_000_000L, "file", time, json);

        assertThat(records.add(r)).isTrue();

        assertThat(records.file()).isEqualTo(home.resolve("db/store.db")).exists();
        assertThat(records.find(msg)).contains(r);
        assertThat(records.find(msg).orElseThrow().messageJson()).isEqualTo(json);
        assertThat(records.find(hash("absent"))).isEmpty();
        assertThat(records.list()).containsExactly(r);
    }

    @Test
    void optionalFieldsMayBeAbsent() throws Exception {
        ItemHash cid = ItemHash.parse("QmWVxvresoeadRbCeG4BmvsoSsqHV7VwUNuGK6nUCKKFGQ");
        StoreRecord r = new StoreRecord(hash("m"), ALICE, cid, StoreRecord.ItemType.IPFS, null, null, null,
                Instant.ofEpochSecond(1), "{}");
        records.add(r);
        assertThat(records.find(hash("m"))).contains(r);
    }

    @Test
    void timeIsKeptToTheMicrosecond() throws Exception {
        StoreRecord r = record("m", ALICE, null, Instant.parse("2024-01-01T00:00:00.123456789Z"));
        records.add(r);
        assertThat(records.find(hash("m")).orElseThrow().time()).isEqualTo(Instant.parse("2024-01-01T00:00:00.123456Z"));
    }

    @Test
    void alephTimesConvertToTheMicrosecond() {
        assertThat(StoreRecord.alephTime(1709294400.123456)).isEqualTo(Instant.parse("2024-03-01T12:00:00.123456Z"));
        assertThat(StoreRecord.alephTime(0)).isEqualTo(Instant.EPOCH);
        assertThatThrownBy(() -> StoreRecord.alephTime(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void addingTheSameMessageTwiceKeepsTheFirst() throws Exception {
        StoreRecord first = record("m", ALICE, null, t(10));
        StoreRecord second = new StoreRecord(first.messageHash(), ALICE, hash("other file"), StoreRecord.ItemType.STORAGE,
                null, 1L, "file", t(20), "{\"second\":true}");
        assertThat(records.add(first)).isTrue();
        assertThat(records.add(second)).isFalse();
        assertThat(records.list()).containsExactly(first);
    }

    @Test
    void latestAmendBySameSenderWins() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(100));
        StoreRecord amend1 = record("a1", ALICE, original.messageHash(), t(200));
        StoreRecord amend2 = record("a2", ALICE, original.messageHash(), t(300));
        // recorded out of order: the rule is by message time, not arrival
        records.add(amend2);
        records.add(original);
        records.add(amend1);

        assertThat(records.resolveLatest(original.messageHash())).contains(amend2);
        assertThat(records.resolve(original.messageHash(), true)).contains(amend2);
        assertThat(records.resolve(original.messageHash(), false)).contains(original);
    }

    @Test
    void amendsOfAmendsFormOneChain() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(100));
        StoreRecord amend1 = record("a1", ALICE, original.messageHash(), t(200));
        StoreRecord amend2 = record("a2", ALICE, amend1.messageHash(), t(300));
        records.add(original);
        records.add(amend1);
        records.add(amend2);

        assertThat(records.resolveLatest(original.messageHash())).contains(amend2);
    }

    @Test
    void amendsByAnotherSenderAreIgnored() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(100));
        StoreRecord amend = record("a1", ALICE, original.messageHash(), t(200));
        StoreRecord hijack = record("evil", MALLORY, original.messageHash(), t(900));
        StoreRecord hijackAmend = record("evil2", ALICE, hijack.messageHash(), t(950));
        records.add(original);
        records.add(amend);
        records.add(hijack);
        records.add(hijackAmend);

        // hijackAmend is by Alice but hangs off Mallory's message, which is not part of Alice's chain
        assertThat(records.resolveLatest(original.messageHash())).contains(amend);
    }

    @Test
    void ethereumAddressesCompareWithoutCase() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(100));
        StoreRecord amend = record("a1", ALICE.toLowerCase(), original.messageHash(), t(200));
        records.add(original);
        records.add(amend);
        assertThat(records.resolveLatest(original.messageHash())).contains(amend);
    }

    @Test
    void otherAddressesCompareExactly() throws Exception {
        String sol = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
        StoreRecord original = record("orig", sol, null, t(100));
        StoreRecord amend = record("a1", sol.toLowerCase(), original.messageHash(), t(200));
        records.add(original);
        records.add(amend);
        assertThat(records.resolveLatest(original.messageHash())).contains(original);
    }

    @Test
    void equalTimesAreBrokenByInsertionOrder() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(100));
        StoreRecord first = record("first", ALICE, original.messageHash(), t(200));
        StoreRecord later = record("later", ALICE, original.messageHash(), t(200));
        records.add(original);
        records.add(first);
        records.add(later);
        assertThat(records.resolveLatest(original.messageHash())).contains(later);
    }

    @Test
    void anOriginalWithoutAmendsResolvesToItselfAndUnknownToNothing() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(100));
        records.add(original);
        assertThat(records.resolveLatest(original.messageHash())).contains(original);
        assertThat(records.resolveLatest(hash("unknown"))).isEmpty();
        assertThat(records.resolve(hash("unknown"), false)).isEmpty();
    }

    @Test
    void aCycleOfRefsTerminates() throws Exception {
        ItemHash x = hash("x");
        ItemHash y = hash("y");
        records.add(new StoreRecord(x, ALICE, hash("fx"), StoreRecord.ItemType.STORAGE, y, 1L, "file", t(100), "{}"));
        records.add(new StoreRecord(y, ALICE, hash("fy"), StoreRecord.ItemType.STORAGE, x, 1L, "file", t(200), "{}"));
        assertThat(records.resolveLatest(x).orElseThrow().messageHash()).isEqualTo(y);
    }

    @Test
    void recordsSurviveReopeningWithTheSchemaVersionAndWal() throws Exception {
        StoreRecord r = record("m", ALICE, null, t(1));
        records.add(r);
        records.close();

        records = KilnHome.of(home).openStoreRecords();
        assertThat(records.find(r.messageHash())).contains(r);
        assertThat(records.schemaVersion()).isEqualTo(StoreRecords.MIGRATIONS.size());

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + records.file());
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.getString(1)).isEqualTo("wal");
            }
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    @Test
    void aDatabaseFromANewerKilnIsRefused() throws Exception {
        records.close();
        Path file = home.resolve("db/store.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.executeUpdate("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> StoreRecords.open(file))
                .isInstanceOf(RecordsException.class)
                .hasMessageContaining("schema version 99")
                .hasMessageContaining("newer Kiln");
        records = StoreRecords.open(home.resolve("db/other.db"));
    }

    @Test
    void manyThreadsReadAndWriteAtOnce() throws Exception {
        StoreRecord original = record("orig", ALICE, null, t(0));
        records.add(original);
        int writers = 6;
        int perWriter = 40;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> work = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < writers; w++) {
                int writer = w;
                work.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perWriter; i++) {
                        assertThat(records.add(record("w" + writer + "-" + i, ALICE, original.messageHash(),
                                t(1 + writer * perWriter + i)))).isTrue();
                    }
                    return null;
                }));
            }
            for (int r = 0; r < 16; r++) {
                work.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 30; i++) {
                        assertThat(records.resolveLatest(original.messageHash())).isPresent();
                        assertThat(records.find(original.messageHash())).contains(original);
                        assertThat(records.list()).isNotEmpty();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : work) f.get();
        }
        assertThat(records.list()).hasSize(1 + writers * perWriter);
        assertThat(records.resolveLatest(original.messageHash()).orElseThrow().messageHash())
                .isEqualTo(hash("w" + (writers - 1) + "-" + (perWriter - 1)));
    }

    @Test
    void recordValidation() {
        assertThatThrownBy(() -> record("m", " ", null, t(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> record("m", ALICE, hash("m"), t(1))).hasMessageContaining("amends itself");
        assertThatThrownBy(() -> StoreRecord.ItemType.fromWire("inline")).hasMessageContaining("storage or ipfs");
        assertThat(StoreRecord.ItemType.fromWire("ipfs")).isEqualTo(StoreRecord.ItemType.IPFS);
    }

    // ---------------------------------------------------------------- helpers

    private static ItemHash hash(String name) {
        return ItemHash.sha256Of(name.getBytes());
    }

    private static Instant t(long seconds) {
        return Instant.ofEpochSecond(1_700_000_000L + seconds);
    }

    private static StoreRecord record(String name, String sender, ItemHash ref, Instant time) {
        return new StoreRecord(hash(name), sender, hash("file of " + name), StoreRecord.ItemType.STORAGE, ref,
                (long) SEQ.incrementAndGet(), "file", time,
                "{\"item_hash\":\"" + hash(name) + "\",\"sender\":\"" + sender + "\"}");
    }
}
