package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.VmState;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-client cases of issue 16 against real QEMU microVMs (the fast tests cover them with
 * the agent as a host process): abandoned uploads, a zip bomb, and a storm of cold boots on a node
 * that boots one VM at a time.
 */
class HostileClientsQemuTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static QemuLauncher launcher;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        launcher = QemuImages.launcher();
        node = TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withMaxConcurrentBoots(1));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    @Test
    void abandonedUploadsDoNotStarveTheProgram() throws Exception {
        PublishedProgram p = node.publishSample("uploads", Resources.of(1, 256, 30));
        assertThat(node.get(p.message(), "/ping").body()).isEqualTo("pong");
        for (int i = 0; i < 60; i++) {
            try (Socket s = new Socket("127.0.0.1", node.node.port())) {
                OutputStream out = s.getOutputStream();
                out.write(("POST /vm/" + p.message().value() + "/echo HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Length: 1000\r\n\r\nabc").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
        long t0 = System.nanoTime();
        HttpResponse<String> r = node.get(p.message(), "/ping");
        assertThat(r.body()).isEqualTo("pong");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(node.node.pool().running(p.message()).orElseThrow().inFlight()).isZero());
    }

    @Test
    void aZipBombIsAFastClearRefusal() throws Exception {
        Path bomb = dir.resolve("bomb.zip");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(bomb))) {
            zip.putNextEntry(new ZipEntry("main.py"));
            zip.write("async def app(scope, receive, send):\n    pass\n".getBytes(StandardCharsets.US_ASCII));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("zeros.bin"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 400; i++) zip.write(zeros); // 400 MiB of nothing, a few hundred KiB packed
            zip.closeEntry();
        }
        assertThat(Files.size(bomb)).isLessThan(2 << 20);
        PublishedProgram p = node.publish(bomb, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 30),
                "bomb");
        long t0 = System.nanoTime();
        HttpResponse<String> r = node.get(p.message(), "/");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("invalid_code");
        assertThat(error.path("message").asText()).contains("zip_too_large");
        assertThat(took).as("refused before unpacking, not after a timeout").isLessThan(Duration.ofSeconds(25));
    }

    @Test
    void aStormOfColdBootsQueuesInsteadOfTimingEveryBootOut() throws Exception {
        List<PublishedProgram> programs = new ArrayList<>();
        for (int i = 0; i < 3; i++) programs.add(node.publishSample("storm-" + i, Resources.of(1, 128, 30)));
        AtomicLong mostBooting = new AtomicLong();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = Thread.ofVirtual().start(() -> {
            while (sampling.get()) {
                mostBooting.accumulateAndGet(node.node.pool().vmsByState().getOrDefault(VmState.BOOTING, 0L), Math::max);
                Thread.onSpinWait();
            }
        });
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (PublishedProgram p : programs) {
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return node.get(p.message(), "/ping");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<HttpResponse<String>> c : calls) {
            HttpResponse<String> r = c.get();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("pong");
        }
        sampling.set(false);
        sampler.join();
        assertThat(mostBooting.get()).as("VMs booting at once on a node that boots one at a time").isEqualTo(1);
    }
}
