package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.pool.ExecutionView;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node on real QEMU microVMs (TCG here): the "Done when" list of issue 5. Kernel and default
 * runtime come from the shared test home; each boot costs ≈ 2 s.
 */
class QemuNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static QemuLauncher launcher;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        launcher = QemuImages.launcher();
        node = TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(), QemuImages.kernel(), c -> c);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static Path app(String name) throws URISyntaxException {
        return Path.of(QemuNodeTest.class.getResource("/dev/kiln/node/apps/" + name).toURI());
    }

    @Test
    void anAsgiProgramInASquashfsDriveAnswersFromAMicroVm() throws Exception {
        PublishedProgram p = node.publishSample(Encoding.SQUASHFS);
        HttpResponse<String> r = node.get(p.message(), "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode j = JSON.readTree(r.body());
        assertThat(j.path("message").asText()).isEqualTo("Hello from Kiln");
        assertThat(j.path("python").asText()).startsWith("3.11");
        assertThat(j.path("lifespan").asText()).isEqualTo("started");

        byte[] payload = new byte[1_500_000];
        new Random(3).nextBytes(payload);
        HttpResponse<String> echo = node.send(HttpRequest.newBuilder(node.uri("/vm/" + p.message().value() + "/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)));
        assertThat(JSON.readTree(echo.body()).path("sha256").asText())
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)));
        assertThat(node.get(p.message(), "/stream").body()).isEqualTo("chunk 0\nchunk 1\nchunk 2\n");

        ExecutionView v = node.node.pool().running(p.message()).orElseThrow().view();
        assertThat(v.accelerator()).isEqualTo(launcher.accelerator().id());
        assertThat(ProcessHandle.of(v.pid())).as("a real VMM process").isPresent()
                .get().satisfies(h -> assertThat(h.info().command().orElse("")).contains("qemu-system"));
    }

    @Test
    void anAsgiProgramInAZipAndItsCrashesStayInsideTheVm() throws Exception {
        PublishedProgram p = node.publish(app("crashy"), Encoding.ZIP, "main:app", CodeInterface.ASGI,
                Resources.of(1, 128, 30), "crashy");
        assertThat(node.get(p.message(), "/").body()).isEqualTo("ok");
        HttpResponse<String> crash = node.get(p.message(), "/crash");
        assertThat(crash.statusCode()).isEqualTo(500);
        assertThat(crash.body()).doesNotContain("secret internal detail").doesNotContain("Traceback");
        HttpResponse<String> cookies = node.get(p.message(), "/cookies");
        assertThat(cookies.headers().allValues("set-cookie")).containsExactly("a=1", "b=2");
        HttpResponse<String> broken = node.get(p.message(), "/crash-before-body");
        assertThat(broken.statusCode()).isEqualTo(502);
        assertThat(JSON.readTree(broken.body()).path("error").path("code").asText()).isEqualTo("program_failed");
        assertThat(node.get(p.message(), "/").body()).as("still serving").isEqualTo("ok");
    }

    @Test
    void anExecutableProgramAnswersThroughItsOwnHttpServer() throws Exception {
        PublishedProgram p = node.publish(app("executable"), Encoding.SQUASHFS, "server.py", CodeInterface.BINARY,
                Resources.of(1, 128, 30), "executable");
        HttpResponse<String> r = node.get(p.message(), "/hello");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello from an executable");
        HttpResponse<String> post = node.send(HttpRequest.newBuilder(node.uri("/vm/" + p.message().value() + "/data?x=1"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))));
        JsonNode j = JSON.readTree(post.body());
        assertThat(j.path("method").asText()).isEqualTo("POST");
        assertThat(j.path("path").asText()).isEqualTo("/data?x=1");
        assertThat(j.path("body_length").asInt()).isEqualTo(100_000);
    }

    @Test
    void concurrentFirstRequestsBootOneVm() throws Exception {
        PublishedProgram p = node.publishSample("concurrent", Resources.of(1, 128, 30));
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 6; i++) answers.add(clients.submit(() -> node.get(p.message(), "/ping")));
            for (Future<HttpResponse<String>> a : answers) assertThat(a.get().body()).isEqualTo("pong");
        }
        node.nodeRecords.executions().flush();
        assertThat(node.nodeRecords.executions().list(p.message(), 10)).as("one VM for six first requests").hasSize(1);
    }

    @Test
    void twoProgramsBootInParallel() throws Exception {
        PublishedProgram a = node.publishSample("parallel-a", Resources.of(1, 128, 30));
        PublishedProgram b = node.publishSample("parallel-b", Resources.of(1, 128, 30));
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> ra = clients.submit(() -> node.get(a.message(), "/ping"));
            Future<HttpResponse<String>> rb = clients.submit(() -> node.get(b.message(), "/ping"));
            assertThat(ra.get().body()).isEqualTo("pong");
            assertThat(rb.get().body()).isEqualTo("pong");
        }
        node.nodeRecords.executions().flush();
        ExecutionRecord ea = node.nodeRecords.executions().list(a.message(), 1).getFirst();
        ExecutionRecord eb = node.nodeRecords.executions().list(b.message(), 1).getFirst();
        Instant aReady = ea.startedAt().plus(ea.boot());
        Instant bReady = eb.startedAt().plus(eb.boot());
        // Overlapping boot intervals: neither waited for the other to finish.
        assertThat(ea.startedAt()).isBefore(bReady);
        assertThat(eb.startedAt()).isBefore(aReady);
    }

    @Test
    void aKilledVmmGives502AndTheNextRequestBootsAFreshVm() throws Exception {
        PublishedProgram p = node.publishSample("killed", Resources.of(1, 128, 60));
        assertThat(node.get(p.message(), "/ping").body()).isEqualTo("pong");
        long pid = node.node.pool().running(p.message()).orElseThrow().vm().pid();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> slow = clients.submit(() -> node.get(p.message(), "/slow?ms=30000"));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> node.node.pool().running(p.message()).map(e -> e.inFlight() == 1).orElse(false));
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            HttpResponse<String> r = slow.get();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
            assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("vm_died");
        }
        HttpResponse<String> next = node.get(p.message(), "/ping");
        assertThat(next.body()).isEqualTo("pong");
        long fresh = node.node.pool().running(p.message()).orElseThrow().vm().pid();
        assertThat(fresh).isNotEqualTo(pid);
    }

    @Test
    void anUnknownHashIs404WithoutBootingAnything() throws Exception {
        int before = launcher.running().size();
        HttpResponse<String> r = node.get("/vm/" + "cd".repeat(32) + "/");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("program_not_found");
        assertThat(launcher.running()).hasSize(before);
    }

    @Test
    void aCorruptedCodeBlobIs400AndNothingIsCached() throws Exception {
        PublishedProgram p = node.publish(app("crashy"), Encoding.SQUASHFS, "main:app", CodeInterface.ASGI,
                Resources.of(1, 128, 30), "corrupt");
        Path blob = node.blobs.path(p.codeFile());
        blob.toFile().setWritable(true);
        try (var ch = Files.newByteChannel(blob, StandardOpenOption.WRITE)) {
            ch.position(100).write(java.nio.ByteBuffer.wrap("flipped".getBytes()));
        }
        int vmsBefore = launcher.running().size();
        HttpResponse<String> r = node.get(p.message(), "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("invalid_code");
        assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).contains("content.code.ref").contains("corrupted");
        assertThat(launcher.running()).as("no VM was booted").hasSize(vmsBefore);
        assertThat(node.node.pool().running(p.message())).isEmpty();
        assertThat(node.blobs.has(p.codeFile())).as("the bad copy is quarantined, not served").isFalse();
        HttpResponse<String> again = node.get(p.message(), "/");
        assertThat(again.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(again.body()).path("error").path("code").asText()).isEqualTo("missing_item");
    }

    @Test
    void anIdleVmIsStoppedAndItsVmmExits(@TempDir Path other) throws Exception {
        try (QemuLauncher own = QemuImages.launcher();
             TestNode idle = TestNode.start(other.resolve("home"), own, QemuImages.runtime().image(), QemuImages.kernel(),
                     c -> c.withIdleTimeout(Duration.ofSeconds(2)))) {
            PublishedProgram p = idle.publishSample(Encoding.ZIP);
            assertThat(idle.get(p.message(), "/ping").body()).isEqualTo("pong");
            long pid = idle.node.pool().running(p.message()).orElseThrow().vm().pid();
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessHandle.of(pid).isEmpty());
            // The pool learns of the exit from the process's exit future, a moment after it is gone.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(idle.node.pool().executions()).isEmpty());
            idle.nodeRecords.executions().flush();
            ExecutionRecord r = idle.nodeRecords.executions().list(p.message(), 1).getFirst();
            assertThat(r.state()).isEqualTo("STOPPED");
            assertThat(r.reason()).startsWith("idle");
        }
    }

    @Test
    void shuttingTheNodeDownLeavesNoQemu(@TempDir Path other) throws Exception {
        QemuLauncher own = QemuImages.launcher();
        TestNode n = TestNode.start(other.resolve("home"), own, QemuImages.runtime().image(), QemuImages.kernel(), c -> c);
        List<Long> pids = new ArrayList<>();
        try {
            PublishedProgram a = n.publishSample("down-a", Resources.of(1, 128, 30));
            PublishedProgram b = n.publishSample("down-b", Resources.of(1, 128, 30));
            assertThat(n.get(a.message(), "/ping").body()).isEqualTo("pong");
            assertThat(n.get(b.message(), "/ping").body()).isEqualTo("pong");
            for (ExecutionView v : n.node.pool().executions()) pids.add(v.pid());
            assertThat(pids).hasSize(2);
        } finally {
            n.close();
        }
        for (long pid : pids) assertThat(ProcessHandle.of(pid)).as("VMM " + pid + " after shutdown").isEmpty();
        assertThat(qemusUnder(other)).isEmpty();
    }

    /** Any QEMU process whose command line mentions a path under {@code dir}. */
    static List<Long> qemusUnder(Path dir) throws IOException {
        List<Long> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(h -> {
            String cmd = h.info().commandLine().orElse("");
            if (cmd.contains("qemu-system") && cmd.contains(dir.toString())) found.add(h.pid());
        });
        return found;
    }
}
