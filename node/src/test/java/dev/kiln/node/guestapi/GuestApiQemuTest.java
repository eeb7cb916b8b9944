package dev.kiln.node.guestapi;

import static dev.kiln.node.guestapi.GuestApiPrograms.JSON;
import static dev.kiln.node.guestapi.GuestApiPrograms.call;
import static dev.kiln.node.guestapi.GuestApiPrograms.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.store.records.StoreRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest API in a real QEMU microVM (TCG here), one boot for every check: the program inside
 * reaches it at aleph's socket over the virtio-serial channel, reads an item the node holds and
 * gets the verified bytes, and uses a cache kept in a real redis-server.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestApiQemuTest {
    @TempDir
    static Path dir;
    static RedisServer redis;
    static TestNode node;
    static ItemHash program;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), null);
        GuestApiSettings settings = GuestApiSettings.defaults().withRedis(redis.url(null, 0))
                .withCache(CacheLimits.DEFAULTS.withExpiry(Duration.ofSeconds(2)));
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofMinutes(10)), List.of(),
                ProgramNetworks.disabled("no networking in this test"), null, settings);
        program = GuestApiPrograms.publish(node, "guestapi-qemu", true, true);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        if (redis != null) redis.close();
    }

    @Test
    @Order(1)
    void theProgramFindsTheApiWhereAlephProgramsLook() throws Exception {
        var r = node.get(program, "/env");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("socket").asText()).isEqualTo("/tmp/socat-socket");
        assertThat(JSON.readTree(r.body()).path("host").asText()).isEqualTo("http://localhost");
        var p = get(node, program, "/properties");
        assertThat(p.status()).isEqualTo(200);
        assertThat(p.json().path("vm_hash").asText()).isEqualTo(program.value());
        assertThat(p.json().path("guest_api").path("cache").asText()).startsWith("redis ");
    }

    @Test
    @Order(2)
    void theProgramReadsAnItemAndGetsTheVerifiedBytes() throws Exception {
        byte[] bytes = new byte[400_000]; // more than one flow-control window
        new Random(11).nextBytes(bytes);
        StoreRecord stored = node.localPublisher.publish(Files.write(dir.resolve("item.bin"), bytes), null);
        var r = get(node, program, "/api/v0/storage/raw/" + stored.fileHash().value());
        assertThat(r.status()).as(r.error()).isEqualTo(200);
        assertThat(ItemHash.sha256Of(r.body())).isEqualTo(stored.fileHash());
    }

    @Test
    @Order(3)
    void theRedisCacheSetsGetsAndExpires() throws Exception {
        assertThat(call(node, program, "PUT", "/cache/visits", "41".getBytes(StandardCharsets.UTF_8)).text()).isEqualTo("true");
        assertThat(get(node, program, "/cache/visits").text()).isEqualTo("41");
        assertThat(JSON.readTree(get(node, program, "/cache/?pattern=vis*").body()).toString()).isEqualTo("[\"visits\"]");
        Thread.sleep(3_000);
        assertThat(get(node, program, "/cache/visits").status()).isEqualTo(404);
    }

    @Test
    @Order(4)
    void garbageGetsAJsonErrorAndTheVmKeepsServing() throws Exception {
        String reply = GuestApiPrograms.raw(node, program, "\u0000\u0001 not http at all\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(reply).startsWith("HTTP/1.1 400").contains("application/json");
        var huge = call(node, program, "PUT", "/cache/huge", new byte[(1 << 20) + 1]);
        assertThat(huge.status()).isEqualTo(413);
        assertThat(get(node, program, "/properties").status()).isEqualTo(200);
        assertThat(node.node.pool().executions()).as("one VM served every check").hasSize(1);
    }
}
