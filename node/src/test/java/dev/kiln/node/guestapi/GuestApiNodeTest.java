package dev.kiln.node.guestapi;

import static dev.kiln.node.guestapi.GuestApiPrograms.JSON;
import static dev.kiln.node.guestapi.GuestApiPrograms.call;
import static dev.kiln.node.guestapi.GuestApiPrograms.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import dev.kiln.store.records.StoreRecord;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest API end to end on the node with the real agent as a host process (the VM driver's
 * stand-in; {@code GuestApiQemuTest} does the same in a microVM): the program speaks HTTP to its
 * socket, the node answers from its store, its cache, or a stand-in aleph API (a real HTTP server:
 * the aleph network cannot be reached from here).
 */
class GuestApiNodeTest {
    @TempDir
    static Path dir;
    static HttpServer remote;
    static final Map<String, byte[]> remoteFiles = new ConcurrentHashMap<>();
    static TestNode node;
    static ItemHash full;
    static ItemHash cacheOnly;
    static ItemHash none;

    @BeforeAll
    static void start() throws Exception {
        remote = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        remote.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            byte[] body = path.startsWith("/api/v0/storage/raw/") ? remoteFiles.get(path.substring(20))
                    : path.equals("/api/v0/info/public.json") ? "{\"node\":\"stand-in\"}".getBytes(StandardCharsets.UTF_8) : null;
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        remote.start();
        GuestApiSettings settings = GuestApiSettings.defaults()
                .withRemote(URI.create("http://127.0.0.1:" + remote.getAddress().getPort()))
                .withCache(CacheLimits.DEFAULTS.withExpiry(Duration.ofSeconds(2)));
        Path fixtures = Files.createDirectories(dir.resolve("fixtures"));
        node = TestNode.start(dir.resolve("n"), new AgentVmLauncher(Duration.ZERO),
                Files.writeString(fixtures.resolve("runtime.img"), "the host's Python stands in for a runtime"),
                Files.writeString(fixtures.resolve("vmlinux"), "no kernel: the agent runs on the host"), c -> c, List.of(),
                ProgramNetworks.disabled("no networking in this test"), null, settings);
        full = GuestApiPrograms.publish(node, "full", true, true);
        cacheOnly = GuestApiPrograms.publish(node, "cache-only", false, true);
        none = GuestApiPrograms.publish(node, "none", false, false);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        if (remote != null) remote.stop(0);
    }

    @Test
    void theProgramReadsAStoredItemAndItsMessageFromTheNode() throws Exception {
        byte[] bytes = new byte[200_000];
        new Random(5).nextBytes(bytes);
        Path file = Files.write(dir.resolve("item.bin"), bytes);
        StoreRecord stored = node.localPublisher.publish(file, null);
        var r = get(node, full, "/api/v0/storage/raw/" + stored.fileHash().value());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(bytes);
        var m = get(node, full, "/api/v0/messages.json?hashes=" + stored.messageHash().value());
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.json().path("messages").get(0).path("item_hash").asText()).isEqualTo(stored.messageHash().value());
    }

    @Test
    void anItemTheNodeLacksComesFromTheRemoteVerified() throws Exception {
        byte[] good = "bytes only the remote has".getBytes(StandardCharsets.UTF_8);
        ItemHash goodHash = ItemHash.sha256Of(good);
        remoteFiles.put(goodHash.value(), good);
        var r = get(node, full, "/api/v0/storage/raw/" + goodHash.value());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("bytes only the remote has");

        ItemHash claimed = ItemHash.sha256Of("what was asked for".getBytes(StandardCharsets.UTF_8));
        remoteFiles.put(claimed.value(), "something else".getBytes(StandardCharsets.UTF_8));
        var bad = get(node, full, "/api/v0/storage/raw/" + claimed.value());
        assertThat(bad.status()).isEqualTo(502);
        assertThat(bad.json().path("error").path("code").asText()).isEqualTo("hash_mismatch");
        assertThat(bad.text()).doesNotContain("something else");

        var info = get(node, full, "/api/v0/info/public.json");
        assertThat(info.status()).isEqualTo(200);
        assertThat(info.text()).contains("stand-in");
    }

    @Test
    void propertiesNameTheVmsProgram() throws Exception {
        var p = get(node, full, "/properties");
        assertThat(p.status()).isEqualTo(200);
        assertThat(p.json().path("vm_hash").asText()).isEqualTo(full.value());
        assertThat(p.json().path("node").path("software").asText()).isEqualTo("kiln");
    }

    @Test
    void theCacheSetsGetsListsDeletesAndExpires() throws Exception {
        assertThat(call(node, full, "PUT", "/cache/greeting", "hello".getBytes()).text()).isEqualTo("true");
        assertThat(get(node, full, "/cache/greeting").text()).isEqualTo("hello");
        call(node, full, "PUT", "/cache/gremlin", "x".getBytes());
        assertThat(JSON.readTree(get(node, full, "/cache/?pattern=gre*").body()).toString())
                .isEqualTo("[\"greeting\",\"gremlin\"]");
        assertThat(call(node, full, "DELETE", "/cache/gremlin", new byte[0]).text()).isEqualTo("1");
        assertThat(get(node, full, "/cache/gremlin").status()).isEqualTo(404);
        Thread.sleep(2_500);
        var expired = get(node, full, "/cache/greeting");
        assertThat(expired.status()).as("expired after the node's 2 s").isEqualTo(404);
        assertThat(expired.json().path("error").path("code").asText()).isEqualTo("not_found");
    }

    @Test
    void oneProgramsCacheIsInvisibleToAnother() throws Exception {
        call(node, full, "PUT", "/cache/secret", "of full".getBytes());
        assertThat(get(node, cacheOnly, "/cache/secret").status()).isEqualTo(404);
        assertThat(JSON.readTree(get(node, cacheOnly, "/cache/").body()).toString()).doesNotContain("secret");
        call(node, cacheOnly, "PUT", "/cache/secret", "of cache-only".getBytes());
        assertThat(get(node, full, "/cache/secret").text()).isEqualTo("of full");
    }

    @Test
    void aProgramGetsOnlyWhatItAskedFor() throws Exception {
        var p = get(node, cacheOnly, "/properties");
        assertThat(p.status()).isEqualTo(403);
        assertThat(p.json().path("error").path("code").asText()).isEqualTo("aleph_api_disabled");
        var noSocket = get(node, none, "/properties");
        assertThat(noSocket.error()).as("no socket at all").matches("(FileNotFoundError|ConnectionRefusedError).*");
    }

    @Test
    void postingIsOffUnlessTheOperatorAllowsIt() throws Exception {
        var r = call(node, full, "POST", "/api/v0/messages", "{\"message\":{}}".getBytes());
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().path("error").path("code").asText()).isEqualTo("post_disabled");
        assertThat(call(node, full, "POST", "/sign", "{}".getBytes()).status()).isEqualTo(403);
    }

    @Test
    void badRequestsGetJsonErrorsAndTheProgramKeepsItsApi() throws Exception {
        String garbage = GuestApiPrograms.raw(node, full, "GARBAGE\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(garbage).startsWith("HTTP/1.1 400").contains("application/json").contains("bad_request");
        assertThat(get(node, full, "/api/v0/../../etc/passwd").status()).isIn(400, 404);
        assertThat(get(node, full, "/api/v0/storage/raw/%2e%2e%2fadmin").status()).isEqualTo(400);
        assertThat(get(node, full, "/cache/not-a-key").status()).isEqualTo(400);
        var big = call(node, full, "PUT", "/cache/big", new byte[CacheLimits.DEFAULTS.maxValueBytes() + 1]);
        assertThat(big.status()).isEqualTo(413);
        assertThat(big.json().path("error").path("code").asText()).isEqualTo("value_too_large");
        assertThat(get(node, full, "/properties").status()).as("still served").isEqualTo(200);
    }
}
