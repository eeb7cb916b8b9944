package dev.kiln.node.guestapi;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.KilnHome;
import dev.kiln.store.records.StoreRecords;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host-side handler without a VM: rate, posting policy, cache bounds, paths it must never proxy. */
class VmGuestApiTest {
    @TempDir
    Path dir;
    HttpServer remote;
    final List<String> posted = new CopyOnWriteArrayList<>();
    NodeRecords nodeRecords;
    StoreRecords storeRecords;
    BlobStore blobs;

    @BeforeEach
    void start() throws Exception {
        remote = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        remote.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            posted.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + new String(body, StandardCharsets.UTF_8));
            byte[] answer = "{\"publication_status\":{\"status\":\"success\"}}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, answer.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(answer);
            }
        });
        remote.start();
        KilnHome home = KilnHome.of(dir.resolve("home")).create();
        blobs = BlobStore.open(home);
        storeRecords = home.openStoreRecords();
        nodeRecords = NodeRecords.open(home);
    }

    @AfterEach
    void stop() {
        remote.stop(0);
        nodeRecords.close();
        storeRecords.close();
    }

    GuestApis apis(GuestApiSettings s) throws Exception {
        return GuestApis.open(s.withRemote(URI.create("http://127.0.0.1:" + remote.getAddress().getPort())), blobs, storeRecords,
                nodeRecords.programs(), "test");
    }

    static GuestApiRequest req(String method, String path, String query, String body) {
        return new GuestApiRequest(method, path, query, List.of(), body.getBytes(StandardCharsets.UTF_8));
    }

    static String code(GuestApiResponse r) {
        String text = new String(r.body(), StandardCharsets.UTF_8);
        int at = text.indexOf("\"code\":\"");
        return at < 0 ? text : text.substring(at + 8, text.indexOf('"', at + 8));
    }

    @Test
    void aVmOverItsRateGets429AndAnotherVmDoesNot() throws Exception {
        try (GuestApis apis = apis(GuestApiSettings.defaults().withRequestsPerSecond(5))) {
            VmGuestApi one = new VmGuestApi(apis, "p1", "0xabc", "e1", new GuestApiAccess(true, true), 5);
            VmGuestApi two = new VmGuestApi(apis, "p2", "0xabc", "e2", new GuestApiAccess(true, true), 5);
            int ok = 0;
            GuestApiResponse last = null;
            for (int i = 0; i < 30; i++) {
                last = one.handle(req("GET", "/properties", "", ""));
                if (last.status() == 200) ok++;
            }
            assertThat(ok).as("the burst is twice the rate").isBetween(10, 12);
            assertThat(last.status()).isEqualTo(429);
            assertThat(code(last)).isEqualTo("rate_limited");
            assertThat(two.handle(req("GET", "/properties", "", "")).status()).isEqualTo(200);
        }
    }

    @Test
    void postingAllowedRelaysASignedMessageToTheRemoteAndRefusesTheRest() throws Exception {
        try (GuestApis apis = apis(GuestApiSettings.defaults().withAllowPost(true))) {
            VmGuestApi vm = new VmGuestApi(apis, "p1", "0xabc", "e1", new GuestApiAccess(true, false), 50);
            String message = "{\"message\":{\"item_hash\":\"h\",\"sender\":\"0xabc\",\"signature\":\"0xsig\",\"type\":\"POST\"}}";
            GuestApiResponse r = vm.handle(req("POST", "/api/v0/messages", "", message));
            assertThat(r.status()).isEqualTo(200);
            assertThat(posted).singleElement().asString().startsWith("POST /api/v0/messages ").contains("0xsig");
            assertThat(vm.handle(req("POST", "/api/v0/messages", "", "{\"message\":{\"item_hash\":\"h\"}}")).status())
                    .as("unsigned").isEqualTo(400);
            assertThat(vm.handle(req("POST", "/api/v0/messages", "", "not json")).status()).isEqualTo(400);
            GuestApiResponse sign = vm.handle(req("POST", "/sign", "", "{}"));
            assertThat(sign.status()).isEqualTo(501);
            assertThat(posted).hasSize(1);
        }
    }

    @Test
    void postingOffByDefault() throws Exception {
        try (GuestApis apis = apis(GuestApiSettings.defaults())) {
            VmGuestApi vm = new VmGuestApi(apis, "p1", "0xabc", "e1", new GuestApiAccess(true, false), 50);
            GuestApiResponse r = vm.handle(req("POST", "/api/v0/ipfs/pubsub/pub", "", "{\"topic\":\"t\",\"data\":\"{}\"}"));
            assertThat(r.status()).isEqualTo(403);
            assertThat(code(r)).isEqualTo("post_disabled");
            assertThat(posted).isEmpty();
        }
    }

    @Test
    void onlyTheRemotesApiPathsAreProxied() throws Exception {
        try (GuestApis apis = apis(GuestApiSettings.defaults())) {
            VmGuestApi vm = new VmGuestApi(apis, "p1", "0xabc", "e1", new GuestApiAccess(true, false), 1000);
            for (String path : List.of("/api/v0/../../admin", "/api/v0//x", "/api/v0/%2e%2e/x", "/api/v0/a\\b")) {
                GuestApiResponse r = vm.handle(req("GET", path, "", ""));
                assertThat(r.status()).as(path).isIn(400, 404);
            }
            assertThat(vm.handle(req("GET", "/metrics", "", "")).status()).isEqualTo(404);
            // An '@' in the path stays a path: the request still goes to the remote, not to another host.
            assertThat(vm.handle(req("GET", "/api/v0/@evil.example/x", "", "")).status()).isEqualTo(200);
            assertThat(posted).containsExactly("GET /api/v0/@evil.example/x ");
            assertThat(vm.handle(req("GET", "/api/v0/x", "a=1#frag", "")).status()).isEqualTo(400);
            assertThat(vm.handle(req("DELETE", "/api/v0/messages", "", "")).status()).isEqualTo(405);
            assertThat(posted).as("nothing reached the remote but what the checks let through")
                    .allSatisfy(p -> assertThat(p).startsWith("GET /api/v0/"));
        }
    }

    @Test
    void theEmbeddedCacheBoundsKeysAndBytesPerProgram() throws Exception {
        CacheLimits limits = new CacheLimits(16, 100, 3, 150, 1 << 20, java.time.Duration.ofMinutes(1));
        try (GuestApis apis = apis(GuestApiSettings.defaults().withCache(limits))) {
            VmGuestApi vm = new VmGuestApi(apis, "p1", "0xabc", "e1", new GuestApiAccess(false, true), 1000);
            assertThat(vm.handle(req("PUT", "/cache/a", "", "x".repeat(100))).status()).isEqualTo(200);
            assertThat(vm.handle(req("PUT", "/cache/b", "", "x".repeat(101))).status()).isEqualTo(413);
            GuestApiResponse bytes = vm.handle(req("PUT", "/cache/b", "", "x".repeat(60)));
            assertThat(bytes.status()).isEqualTo(507);
            assertThat(code(bytes)).isEqualTo("cache_full");
            vm.handle(req("PUT", "/cache/b", "", "x"));
            vm.handle(req("PUT", "/cache/c", "", "x"));
            assertThat(vm.handle(req("PUT", "/cache/d", "", "x")).status()).as("a fourth key").isEqualTo(507);
            assertThat(vm.handle(req("PUT", "/cache/" + "k".repeat(17), "", "x")).status()).isEqualTo(400);
            assertThat(vm.handle(req("GET", "/properties", "", "")).status()).as("no aleph_api").isEqualTo(403);
        }
    }
}
