package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.AlephTime;
import dev.kiln.core.message.Code;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.ProgramRuntime;
import dev.kiln.core.message.StoreContent;
import dev.kiln.node.program.CodePackager;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import dev.kiln.store.remote.AlephHttpSource;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A program this node has never seen, fetched from an aleph API (a real HTTP server here, spoken to
 * by the real AlephHttpSource): its PROGRAM message, its code's STORE message and the code's bytes,
 * each verified against its hash.
 */
class RemoteProgramTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SENDER = "0x" + "ab".repeat(20);

    @TempDir
    Path dir;
    HttpServer api;
    final Map<String, String> messages = new ConcurrentHashMap<>();
    final Map<String, byte[]> files = new ConcurrentHashMap<>();

    @BeforeEach
    void startApi() throws Exception {
        api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        api.createContext("/api/v0/messages.json", ex -> {
            String hash = ex.getRequestURI().getQuery().replaceFirst("^hashes=", "");
            String m = messages.get(hash);
            byte[] body = ("{\"messages\": [" + (m == null ? "" : m) + "]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        api.createContext("/api/v0/storage/raw/", ex -> {
            String hash = ex.getRequestURI().getPath().substring("/api/v0/storage/raw/".length());
            byte[] body = files.get(hash);
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
        api.start();
    }

    @AfterEach
    void stopApi() {
        api.stop(0);
    }

    /** Publishes the sample's code on the "network" and returns its PROGRAM message hash. */
    ItemHash publishRemotely(ItemHash runtime, byte[] servedBytes) throws Exception {
        Path zip = CodePackager.pack(SampleProgram.writeTo(Files.createDirectories(dir.resolve("remote"))), Encoding.ZIP,
                dir.resolve("remote.zip"));
        byte[] bytes = Files.readAllBytes(zip);
        ItemHash fileHash = ItemHash.sha256Of(bytes);
        files.put(fileHash.value(), servedBytes == null ? bytes : servedBytes);
        Instant now = Instant.now();
        AlephMessage store = AlephMessage.inline("ETH", SENDER, "TEST", StoreContent.of(SENDER, fileHash, AlephTime.of(now)), now);
        messages.put(store.itemHash(), AlephMessages.toJson(store));
        ProgramContent content = ProgramContent.builder().address(SENDER).time(now)
                .code(Code.of(Encoding.ZIP, "main:app", store.hash())).runtime(ProgramRuntime.of(runtime, "local")).build();
        AlephMessage program = AlephMessage.inline("ETH", SENDER, "TEST", content, now);
        messages.put(program.itemHash(), AlephMessages.toJson(program));
        return program.hash();
    }

    @Test
    void anUnknownProgramIsFetchedVerifiedRecordedAndRun() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        AlephHttpSource remote = new AlephHttpSource(URI.create("http://127.0.0.1:" + api.getAddress().getPort()));
        try (TestNode node = TestNode.withAgents(dir.resolve("node"), launcher, c -> c, List.of(remote))) {
            ItemHash program = publishRemotely(node.runtime, null);
            HttpResponse<String> r = node.get(program, "/");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("message").asText()).isEqualTo("Hello from Kiln");
            assertThat(node.nodeRecords.programs().find(program)).as("recorded for next time").isPresent();
            assertThat(node.blobs.list()).as("the code is in the local store now").hasSizeGreaterThanOrEqualTo(2);
        } finally {
            remote.close();
        }
    }

    @Test
    void codeWhoseBytesDoNotMatchItsHashIs400AndIsNotStored() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        AlephHttpSource remote = new AlephHttpSource(URI.create("http://127.0.0.1:" + api.getAddress().getPort()));
        try (TestNode node = TestNode.withAgents(dir.resolve("node"), launcher, c -> c, List.of(remote))) {
            ItemHash program = publishRemotely(node.runtime, "not the code you are looking for".getBytes(StandardCharsets.UTF_8));
            int stored = node.blobs.list().size();
            HttpResponse<String> r = node.get(program, "/");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("invalid_code");
            assertThat(node.blobs.list()).as("nothing unverified entered the store").hasSize(stored);
            assertThat(launcher.launches()).isZero();
        } finally {
            remote.close();
        }
    }

    @Test
    void aProgramNoRemoteKnowsIs404() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        AlephHttpSource remote = new AlephHttpSource(URI.create("http://127.0.0.1:" + api.getAddress().getPort()));
        try (TestNode node = TestNode.withAgents(dir.resolve("node"), launcher, c -> c, List.of(remote))) {
            HttpResponse<String> r = node.get(ItemHash.parse("12".repeat(32)), "/");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
            assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("program_not_found");
        } finally {
            remote.close();
        }
    }
}
