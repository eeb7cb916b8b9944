package dev.kiln.node.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.node.testing.TestAlephFeed;
import dev.kiln.node.testing.TriggerPrograms;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The node's client of aleph's message feed against a real WebSocket server over TCP
 * ({@link TestAlephFeed}, standing in for an aleph API server, which these machines cannot reach):
 * the URL and its startDate, frames in order, fragmented frames, confirmation notices skipped,
 * reconnection after a dropped connection, and backoff while the server refuses.
 */
class AlephMessageFeedTest {

    @Test
    void theFeedUrlIsTheRemotesWebSocketTwin() {
        assertThat(AlephMessageFeed.feedUri(URI.create("https://api2.aleph.im")))
                .isEqualTo(URI.create("wss://api2.aleph.im/api/ws0/messages"));
        assertThat(AlephMessageFeed.feedUri(URI.create("http://127.0.0.1:4024/")))
                .isEqualTo(URI.create("ws://127.0.0.1:4024/api/ws0/messages"));
    }

    @Test
    void deliversFramesInOrderSkipsConfirmationsAndReassemblesFragments() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (TestAlephFeed server = TestAlephFeed.start();
             AlephMessageFeed feed = new AlephMessageFeed(server.uri(), got::add, Duration.ofMillis(100),
                     Duration.ofSeconds(1)).start()) {
            server.awaitClients(1, Duration.ofSeconds(10));
            assertThat(server.requests().getFirst()).startsWith("GET /api/ws0/messages?startDate=");
            String a = TriggerPrograms.post("FEED", "test", Map.of("n", 1));
            String b = TriggerPrograms.post("FEED", "test", Map.of("n", 2, "padding", "x".repeat(70_000)));
            server.send(a);
            server.send("{\"item_hash\": \"" + "ab".repeat(32) + "\", \"confirmation\": {\"chain\": \"ETH\"}}");
            server.sendFragmented(b, 5);
            await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 2);
            assertThat(got).containsExactly(a, b);
            assertThat(feed.status().skipped()).isEqualTo(1);
            assertThat(feed.status().connected()).isTrue();
        }
    }

    @Test
    void reconnectsAfterTheConnectionDropsAndAsksForMessagesSinceTheLastOne() throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (TestAlephFeed server = TestAlephFeed.start();
             AlephMessageFeed feed = new AlephMessageFeed(server.uri(), got::add, Duration.ofMillis(100),
                     Duration.ofSeconds(1)).start()) {
            server.awaitClients(1, Duration.ofSeconds(10));
            String first = TriggerPrograms.post("FEED", "test", Map.of("n", 1));
            server.send(first);
            await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 1);
            long firstTime = (long) Math.floor(TriggerPrograms.JSON.readTree(first).get("time").asDouble());
            server.dropClients();
            await().atMost(Duration.ofSeconds(10)).until(() -> feed.status().connections() == 2 && server.connected() == 1);
            assertThat(server.requests().getLast()).contains("startDate=" + firstTime);
            String second = TriggerPrograms.post("FEED", "test", Map.of("n", 2));
            server.send(second);
            await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 2);
            assertThat(got.getLast()).isEqualTo(second);
        }
    }

    @Test
    void backsOffWhileTheServerRefuses() throws Exception {
        try (TestAlephFeed server = TestAlephFeed.start()) {
            server.refuseUpgrades(true);
            try (AlephMessageFeed feed = new AlephMessageFeed(server.uri(), s -> { }, Duration.ofMillis(200),
                    Duration.ofSeconds(10)).start()) {
                server.awaitUpgradeAttempts(4, Duration.ofSeconds(20));
                List<Long> t = server.upgradeAttempts();
                // 200, 400, 800 ms between attempts (less whatever the attempt itself took): not a tight loop.
                assertThat(Duration.ofNanos(t.get(1) - t.get(0))).isGreaterThanOrEqualTo(Duration.ofMillis(180));
                assertThat(Duration.ofNanos(t.get(2) - t.get(1))).isGreaterThanOrEqualTo(Duration.ofMillis(380));
                assertThat(Duration.ofNanos(t.get(3) - t.get(2))).isGreaterThanOrEqualTo(Duration.ofMillis(780));
                assertThat(feed.status().connected()).isFalse();
                assertThat(feed.status().lastError()).isNotBlank();
                server.refuseUpgrades(false);
                server.awaitClients(1, Duration.ofSeconds(20));
                await().atMost(Duration.ofSeconds(5)).until(() -> feed.status().connected());
            }
        }
    }
}
