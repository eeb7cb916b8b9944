package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.pool.StartKind;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.snapshot.ProgramSnapshots;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot cold starts through the node on real QEMU (docs/snapshots.md, "The node"): one program,
 * booted once, then restored; each check builds on the state the previous ones left, so they run as
 * one test to share the boots.
 */
class SnapshotNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> snapshotLog = new CopyOnWriteArrayList<>();
    static final Logger SNAPSHOT_LOGGER = Logger.getLogger(ProgramSnapshots.class.getName());
    static final Handler CAPTURE = new Handler() {
        @Override
        public void publish(LogRecord r) {
            snapshotLog.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @TempDir
    static Path dir;
    static QemuLauncher launcher;
    static TestNode node;
    static Path code;

    @BeforeAll
    static void start() throws Exception {
        SNAPSHOT_LOGGER.addHandler(CAPTURE);
        launcher = QemuImages.launcher();
        node = TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(), QemuImages.kernel(), c -> c);
        code = Path.of(SnapshotNodeTest.class.getResource("/dev/kiln/node/apps/copycheck").toURI());
    }

    @AfterAll
    static void stop() {
        SNAPSHOT_LOGGER.removeHandler(CAPTURE);
        if (node != null) node.close();
    }

    private static PublishedProgram publish(String label) throws Exception {
        return node.publisher.publish(new ProgramSpec(code, Encoding.ZIP, "main:app", CodeInterface.ASGI, node.runtime,
                "test", Resources.of(1, 256, 30), Map.of("COPY_LABEL", label), "copycheck-" + label));
    }

    /** One cold start: the answer, and how the VM that gave it started. */
    record Answer(JsonNode body, StartKind start, double hostTime) {
    }

    private static Answer coldRequest(ItemHash program) throws Exception {
        assertThat(node.node.pool().running(program)).isEmpty();
        HttpResponse<String> r = node.get(program, "/copy");
        double host = System.currentTimeMillis() / 1000.0;
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StartKind kind = node.node.pool().running(program).orElseThrow().startKind();
        return new Answer(JSON.readTree(r.body()), kind, host);
    }

    private static void stopIdle(ItemHash program) {
        node.node.pool().stop(program, "the test stops it");
        await().atMost(Duration.ofSeconds(30)).until(() -> node.node.pool().running(program).isEmpty());
    }

    private static List<Path> snapshots() throws Exception {
        Path root = node.home.dir("snapshots");
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("manifest.json"))).toList();
        }
    }

    @Test
    void bootThenRestoresThatAreFreshCopiesAndABootWhenTheSnapshotIsDamaged() throws Exception {
        PublishedProgram p = publish("first");
        ItemHash program = p.message();

        // 1. The first request boots; a snapshot appears in the background.
        Answer booted = coldRequest(program);
        assertThat(booted.start()).isEqualTo(StartKind.BOOT);
        assertThat(booted.body().path("lifespan").asText()).isEqualTo("started");
        await().atMost(Duration.ofSeconds(60)).until(() -> snapshots().size() == 1);

        // 2. After a stop the next cold start is a restore, answering with the start-up state.
        stopIdle(program);
        Answer a = coldRequest(program);
        assertThat(a.start()).isEqualTo(StartKind.RESTORE);
        assertThat(a.body().path("token").asDouble()).isEqualTo(booted.body().path("token").asDouble());
        assertThat(a.body().path("lifespan").asText()).isEqualTo("started");
        assertThat(a.body().path("variable").asText()).isEqualTo("first");
        JsonNode list = JSON.readTree(node.get("/about/executions/list").body());
        assertThat(list.path("executions").get(0).path("start").asText()).isEqualTo("restore");
        assertThat(list.path("executions").get(0).path("boot_breakdown_seconds").path("configure").isNumber()).isTrue();

        // 3. A second copy of the same snapshot differs from the first in randomness and identity,
        //    and both have the host's time.
        stopIdle(program);
        Answer b = coldRequest(program);
        assertThat(b.start()).isEqualTo(StartKind.RESTORE);
        assertThat(b.body().path("urandom").asText()).isNotEqualTo(a.body().path("urandom").asText());
        assertThat(b.body().path("random").asDouble()).isNotEqualTo(a.body().path("random").asDouble());
        assertThat(b.body().path("uuid").asText()).isNotEqualTo(a.body().path("uuid").asText());
        for (Answer x : List.of(a, b)) {
            assertThat(x.body().path("time").asDouble()).isCloseTo(x.hostTime(), org.assertj.core.data.Offset.offset(2.0));
        }

        // The records and /metrics say how each VM started.
        stopIdle(program);
        node.nodeRecords.executions().flush();
        List<ExecutionRecord> records = node.nodeRecords.executions().list(program, 10);
        assertThat(records).extracting(ExecutionRecord::start).containsExactly("restore", "restore", "boot");
        assertThat(records).allSatisfy(r -> assertThat(r.phases()).isNotNull());
        String metrics = node.get("/metrics").body();
        assertThat(metrics).containsPattern("kiln_node_cold_starts_total\\{[^}]*start=\"restore\"[^}]*\\} 2\\.0");

        // 4. Changed variables: another guest, another key — a boot, not a wrong restore.
        Answer other = coldRequest(publish("second").message());
        assertThat(other.start()).isEqualTo(StartKind.BOOT);
        assertThat(other.body().path("variable").asText()).isEqualTo("second");
        assertThat(other.body().path("token").asDouble()).isNotEqualTo(booted.body().path("token").asDouble());

        // 5. A damaged snapshot: discarded with its reason logged, the program boots and answers.
        Path ram = snapshotOf(program).resolve("ram");
        try (RandomAccessFile f = new RandomAccessFile(ram.toFile(), "rw")) {
            f.seek(4096);
            f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        }
        snapshotLog.clear();
        Answer afterDamage = coldRequest(program);
        assertThat(afterDamage.start()).isEqualTo(StartKind.BOOT);
        assertThat(afterDamage.body().path("variable").asText()).isEqualTo("first");
        assertThat(snapshotLog).anySatisfy(m -> assertThat(m).contains("discarded").contains("CORRUPT"));
    }

    @Test
    void aRestoredExecutableFindsTheMarkerFileAndGetsItsSignal() throws Exception {
        Path app = Path.of(SnapshotNodeTest.class.getResource("/dev/kiln/node/apps/restorewatch").toURI());
        ItemHash program = node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "server.py", CodeInterface.BINARY,
                node.runtime, "test", Resources.of(1, 128, 30), Map.of("KILN_RESTORE_SIGNAL", "SIGUSR2"),
                "restorewatch")).message();
        Answer booted = coldRequest(program);
        assertThat(booted.start()).isEqualTo(StartKind.BOOT);
        assertThat(booted.body().path("signals").asInt()).isZero();
        assertThat(booted.body().path("restored").isNull()).isTrue();
        String vm = "of vm-" + program.value().substring(0, 12);
        await().atMost(Duration.ofSeconds(60)).until(() -> snapshotLog.stream().anyMatch(m -> m.startsWith("saved snapshot")
                && m.contains(vm)));
        stopIdle(program);

        Answer restored = coldRequest(program);
        assertThat(restored.start()).isEqualTo(StartKind.RESTORE);
        assertThat(restored.body().path("signals").asInt()).isEqualTo(1);
        assertThat(restored.body().path("restored").path("generation").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(restored.body().path("restored").path("time").asDouble())
                .isCloseTo(restored.hostTime(), org.assertj.core.data.Offset.offset(5.0));
    }

    /** The snapshot directory of the program's key: the one whose manifest existed before "second" was published. */
    private static Path snapshotOf(ItemHash program) throws Exception {
        // The store names snapshots by key; the records tell which executions restored, the manifests
        // which snapshot came first (the program "first" was saved before "second").
        return snapshots().stream().min((x, y) -> {
            try {
                return Files.getLastModifiedTime(x.resolve("manifest.json")).compareTo(Files.getLastModifiedTime(y.resolve("manifest.json")));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).orElseThrow();
    }
}
