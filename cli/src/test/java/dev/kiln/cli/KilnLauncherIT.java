package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.BlobStore;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI of issue 2 through the real launcher: exit codes, one-line errors, no stack traces. */
class KilnLauncherIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = Launcher.repo().resolve("fixtures").resolve("aleph-messages");

    @TempDir Path dir;

    private Launcher kiln() {
        return new Launcher(dir.resolve("home"));
    }

    private static void assertNoStackTrace(Launcher.Result r) {
        assertThat(r.err()).as(r.toString()).doesNotContain("\tat ").doesNotContain("Exception in thread");
    }

    @Test
    void runtimeListMarksTheDefaultsAndFlagsDeprecatedRuntimes() throws Exception {
        Launcher.Result r = kiln().run("runtime", "list");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).containsPattern("(?m)^debian-12-python \\*\\s+function\\s+default")
                .containsPattern("(?m)^debian-11-python\\s+function\\s+DEPRECATED");

        Launcher.Result json = kiln().run("runtime", "list", "--kind", "function", "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonNode arr = JSON.readTree(json.out());
        assertThat(arr.isArray()).isTrue();
        assertThat(arr).allSatisfy(n -> assertThat(n.get("kind").asText()).isEqualTo("function"));
        assertThat(Stream.of(arr.elements()).count()).isPositive();
        long defaults = 0;
        for (JsonNode n : arr) {
            if (n.get("default").asBoolean()) {
                defaults++;
                assertThat(n.get("name").asText()).isEqualTo("debian-12-python");
                assertThat(ItemHash.isValid(n.get("item_hash").asText())).isTrue();
            }
        }
        assertThat(defaults).isEqualTo(1);
    }

    @Test
    void runtimeShowFindsByNameAndPrefixAndAnUnknownNameIsOneLine() throws Exception {
        Launcher.Result byName = kiln().run("runtime", "show", "confidential-firmware");
        assertThat(byName.exit()).as(byName.toString()).isZero();
        assertThat(byName.out()).contains("verification hash:").contains("kind:        confidential-firmware");
        String hash = byName.out().lines().filter(l -> l.startsWith("item hash:")).findFirst().orElseThrow()
                .substring("item hash:".length()).strip();

        Launcher.Result byPrefix = kiln().run("runtime", "show", hash.substring(0, 10));
        assertThat(byPrefix.exit()).as(byPrefix.toString()).isZero();
        assertThat(byPrefix.out()).contains("name:        confidential-firmware");

        Launcher.Result unknown = kiln().run("runtime", "show", "no-such-runtime");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err().strip().lines()).hasSize(1);
        assertThat(unknown.err()).contains("no runtime named 'no-such-runtime'");
        assertNoStackTrace(unknown);

        Launcher.Result badKind = kiln().run("runtime", "list", "--kind", "teapot");
        assertThat(badKind.exit()).as(badKind.toString()).isIn(1, 2);
        assertThat(badKind.err()).contains("teapot");
        assertNoStackTrace(badKind);
    }

    @Test
    void storePutGetVerifyRoundTripAndACorruptedBlobIsReportedAndNotServed() throws Exception {
        byte[] bytes = new byte[300_000];
        new Random(7).nextBytes(bytes);
        Path file = dir.resolve("blob.bin");
        Files.write(file, bytes);

        Launcher.Result put = kiln().run("store", "put", file.toString());
        assertThat(put.exit()).as(put.toString()).isZero();
        String hash = put.out().strip();
        assertThat(hash).isEqualTo(ItemHash.sha256Of(bytes).value());

        Path copy = dir.resolve("copy.bin");
        Launcher.Result get = kiln().run("store", "get", hash, "-o", copy.toString());
        assertThat(get.exit()).as(get.toString()).isZero();
        assertThat(Files.readAllBytes(copy)).isEqualTo(bytes);

        assertThat(kiln().run("store", "verify", "--all").out()).contains("1 ok").contains("0 corrupted");
        assertThat(kiln().run("store", "list").out()).contains(hash);

        // flip one byte of the stored blob behind the store's back
        Path blob;
        try (Stream<Path> s = Files.walk(dir.resolve("home").resolve("blobs"))) {
            blob = s.filter(p -> p.getFileName().toString().equals(hash)).findFirst().orElseThrow();
        }
        byte[] onDisk = Files.readAllBytes(blob);
        onDisk[1234] ^= 0x40;
        Files.write(blob, onDisk);

        Launcher.Result verify = kiln().run("store", "verify", "--all");
        assertThat(verify.exit()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.err()).contains("CORRUPTED " + hash);
        assertNoStackTrace(verify);

        Launcher.Result again = kiln().run("store", "get", hash, "-o", dir.resolve("again.bin").toString());
        assertThat(again.exit()).as(again.toString()).isEqualTo(1);
        assertThat(Files.exists(dir.resolve("again.bin"))).isFalse();
        assertNoStackTrace(again);
    }

    @Test
    void theFourRealMessagesValidate() throws Exception {
        try (Stream<Path> s = Files.list(FIXTURES)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".json")).toList()) {
                Launcher.Result r = kiln().run("message", "validate", f.toString());
                assertThat(r.exit()).as(f + "\n" + r).isZero();
                assertThat(r.out()).contains("valid");
            }
        }
    }

    @Test
    void anInvalidMessageNamesTheFieldAndAMalformedOneTheLine() throws Exception {
        JsonNode program = JSON.readTree(FIXTURES.resolve("program.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) program).put("item_hash", "0".repeat(64));
        Path wrongHash = dir.resolve("wrong-hash.json");
        Files.writeString(wrongHash, JSON.writeValueAsString(program));
        Launcher.Result r = kiln().run("message", "validate", wrongHash.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("item_hash");
        assertNoStackTrace(r);

        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\n  \"type\": \"PROGRAM\",\n  oops\n}");
        Launcher.Result b = kiln().run("message", "validate", broken.toString());
        assertThat(b.exit()).isEqualTo(1);
        assertThat(b.err()).contains("line 3");
        assertNoStackTrace(b);
    }

    @Test
    void usageErrorsExitTwoAndDebugShowsTheStackTrace() throws Exception {
        Launcher.Result usage = kiln().run("store", "frobnicate");
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.err()).contains("kiln store --help");

        Launcher.Result plain = kiln().run("store", "get", "not-a-hash");
        assertThat(plain.exit()).isEqualTo(1);
        assertNoStackTrace(plain);
        Launcher.Result debug = kiln().run("--debug", "store", "get", "not-a-hash");
        assertThat(debug.exit()).isEqualTo(1);
        assertThat(debug.err()).contains("\tat ");
    }

    @Test
    void runtimePullDownloadsVerifiesAndRefusesCorruptedBytes() throws Exception {
        byte[] image = new byte[2_000_000];
        new Random(11).nextBytes(image);
        KilnHome publisherHome = KilnHome.of(dir.resolve("publisher"));
        Path imageFile = dir.resolve("image.squashfs");
        Files.write(imageFile, image);
        StoreRecord published;
        try (StoreRecords records = publisherHome.openStoreRecords()) {
            published = LocalPublisher.open(publisherHome, BlobStore.open(publisherHome), records).publish(imageFile, null);
        }
        byte[] corrupted = image.clone();
        corrupted[999_999] ^= 1;

        for (boolean corrupt : new boolean[] {true, false}) {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/api/v0/messages.json", ex -> reply(ex, ("{\"messages\":[" + published.messageJson() + "]}")
                    .getBytes(StandardCharsets.UTF_8)));
            server.createContext("/api/v0/storage/raw/" + published.fileHash().value(), ex -> reply(ex, corrupt ? corrupted : image));
            server.start();
            try {
                String remote = "http://127.0.0.1:" + server.getAddress().getPort();
                Launcher.Result r = kiln().run("runtime", "pull", published.messageHash().value(), "--remote", remote, "--quiet");
                if (corrupt) {
                    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
                    assertThat(r.err()).contains(published.fileHash().value());
                    assertNoStackTrace(r);
                } else {
                    assertThat(r.exit()).as(r.toString()).isZero();
                    assertThat(r.out()).contains("verified").contains(published.fileHash().value());
                    Launcher.Result show = kiln().run("runtime", "show", published.messageHash().value());
                    assertThat(show.out()).contains("in the local store");
                }
            } finally {
                server.stop(0);
            }
        }
    }

    private static void reply(HttpExchange ex, byte[] body) throws IOException {
        try (ex) {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
