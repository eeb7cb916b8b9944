package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Resources;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.pool.StartKind;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.volume.Ext4Images;
import dev.kiln.node.volume.PersistentVolumes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node restart does not reboot a persistent program's VM (real QEMU, TCG): the node closes, the
 * QEMU runs on; the next node on the same home adopts it and answers from the same guest — a
 * counter in the program's memory continues, the kernel's boot id is the same and its uptime
 * went on; there is exactly one QEMU for the program throughout. An on-demand VM is gone after
 * the close as before. Its persistent volume stays attached and its scratch volume stays with it
 * (files written before are read after); killed while no node runs, the program is started again,
 * once, by the next node, its volume checked and kept and its scratch new; an adopted VM stopped
 * releases its volume clean, and the next attach works. One persistent program, shared by the
 * ordered checks (four boots in all).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeRestartTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration BOOT = Duration.ofMinutes(3);
    static final String VOLUME = "/var/lib/app";
    static final String SCRATCH = "/tmp/scratch";
    /**
     * Counts its requests in memory, says which boot of the kernel answers, and shows (and on
     * /write?TEXT writes, synced) a note on its persistent volume and one on its scratch volume.
     */
    static final String COUNTER = """
            import json
            import os

            count = 0

            def read(path):
                try:
                    with open(path) as f:
                        return f.read().strip()
                except OSError:
                    return None

            async def app(scope, receive, send):
                global count
                if scope["type"] != "http":
                    return
                count += 1
                if scope["path"] == "/write":
                    for d in ("%s", "%s"):
                        with open(d + "/note", "w") as f:
                            f.write(scope["query_string"].decode())
                            f.flush()
                            os.fsync(f.fileno())
                body = {"count": count, "boot_id": read("/proc/sys/kernel/random/boot_id"),
                        "uptime": float(read("/proc/uptime").split()[0]),
                        "volume": read("%s/note"), "scratch": read("%s/note")}
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": json.dumps(body).encode()})
            """.formatted(VOLUME, SCRATCH, VOLUME, SCRATCH);

    @TempDir
    static Path dir;
    static Path home;
    static TestNode node;
    static ItemHash program;
    static ItemHash onDemand;
    static long pid;
    static String bootId;
    static Path scratch;
    static double uptime;

    @BeforeAll
    static void start() throws Exception {
        home = dir.resolve("home");
        node = startNode();
        Path code = Files.createDirectories(dir.resolve("counter"));
        Files.writeString(code.resolve("main.py"), COUNTER);
        program = node.publisher.publish(new ProgramSpec(code, Encoding.ZIP, "main:app", CodeInterface.ASGI, node.runtime, "test",
                Resources.of(1, 128, 10), Map.of(), "counter", false, true,
                List.of(PersistentVolume.of(VOLUME, "data", Persistence.HOST, 32), EphemeralVolume.of(SCRATCH, 16)))).message();
        onDemand = node.publish(code, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 10), "on-demand").message();
        // Allocated as an operator would: every later node on this home converges to the recorded allocation.
        var allocated = node.operator("POST", "/control/allocations",
                "{\"persistent_vms\": [\"" + program.value() + "\"], \"instances\": []}");
        assertThat(allocated.statusCode()).as(allocated.body()).isEqualTo(200);
    }

    static TestNode startNode() throws Exception {
        return TestNode.start(home, QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofMinutes(5)));
    }

    @AfterAll
    static void stop() {
        try {
            if (node != null) node.close();
        } finally {
            // Whatever a failed check left behind: no QEMU of this home outlives the test.
            for (ProcessHandle h : qemusOfHome()) h.destroyForcibly();
        }
    }

    static Execution serving() {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(200)).until(() -> node.node.pool().running(program).isPresent());
        return node.node.pool().running(program).orElseThrow();
    }

    static JsonNode count() throws Exception {
        return call("/");
    }

    static JsonNode call(String path) throws Exception {
        var r = node.get(program, path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The QEMU processes whose command line names this test's home (its runtime image is stored there). */
    static List<ProcessHandle> qemusOfHome() {
        String mark = home.toAbsolutePath().normalize().toString();
        return ProcessHandle.allProcesses().filter(h -> {
            try {
                String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8);
                return cmd.startsWith("qemu-system") || cmd.contains("/qemu-system") ? cmd.contains(mark) : false;
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }

    static boolean alive(long p) {
        return ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false);
    }

    static List<DetachedVmRecords.Row> rows() throws Exception {
        return node.nodeRecords.detachedVms().list();
    }

    /** The program's persistent volume (one owner, one volume under this home). */
    static Path image() throws Exception {
        try (var owners = Files.list(home.resolve("volumes"))) {
            return owners.findFirst().orElseThrow().resolve("data.ext4");
        }
    }

    /** The scratch image in the detached VM's work directory. */
    static Path scratchOf(Execution e) {
        return e.vm().spec().drives().stream().filter(d -> d.id().startsWith("scratch")).findFirst().orElseThrow().file();
    }

    static void fsckClean(Path image) throws Exception {
        Process p = new ProcessBuilder(Ext4Images.tool("e2fsck").toString(), "-f", "-n", image.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isEqualTo(0);
    }

    static String attachedTo() throws Exception {
        var about = node.get("/about/volumes");
        assertThat(about.statusCode()).as(about.body()).isEqualTo(200);
        return JSON.readTree(about.body()).path("volumes").get(0).path("attached_to").asText("");
    }

    @Test
    @Order(1)
    void theNodeClosesAndThePersistentVmRunsOnWhileTheOnDemandOneStops() throws Exception {
        Execution e = serving();
        assertThat(count().path("count").asInt()).isEqualTo(1);
        JsonNode second = call("/write?before-the-restart");
        assertThat(second.path("count").asInt()).isEqualTo(2);
        assertThat(second.path("volume").asText()).isEqualTo("before-the-restart");
        scratch = scratchOf(e);
        assertThat(scratch).as("scratch lives in the detached VM's work directory")
                .startsWith(home.resolve("vms").resolve("detached"));
        bootId = second.path("boot_id").asText();
        uptime = second.path("uptime").asDouble();
        pid = e.vm().pid();
        assertThat(rows()).singleElement().satisfies(r -> {
            assertThat(r.program()).isEqualTo(program);
            assertThat(r.vm().pid()).isEqualTo(pid);
            assertThat(r.holdings().drives()).extracting(d -> d.file()).containsExactlyInAnyOrder(image(), scratch);
        });
        var r = node.get(onDemand, "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        long onDemandPid = node.node.pool().running(onDemand).orElseThrow().vm().pid();
        assertThat(qemusOfHome()).hasSize(2);

        node.closeLeavingPersistent();
        node = null;

        await().atMost(Duration.ofSeconds(30)).until(() -> !alive(onDemandPid));
        Thread.sleep(2_000);
        assertThat(alive(pid)).as("the persistent VM's QEMU outlives its node").isTrue();
        assertThat(qemusOfHome()).extracting(ProcessHandle::pid).containsExactly(pid);
        assertThat(scratch).as("its scratch image stays with it").exists();
        assertThat(PersistentVolumes.isDirty(image())).as("its volume is still attached").isTrue();
    }

    @Test
    @Order(2)
    void theNextNodeAdoptsTheSameGuest() throws Exception {
        node = startNode();
        Execution e = serving();
        assertThat(e.startKind()).isEqualTo(StartKind.ADOPT);
        assertThat(e.vm().pid()).isEqualTo(pid);
        JsonNode third = count();
        assertThat(third.path("count").asInt()).as("the program's memory is the one the first node left").isEqualTo(3);
        assertThat(third.path("boot_id").asText()).as("the same kernel boot").isEqualTo(bootId);
        assertThat(third.path("uptime").asDouble()).isGreaterThan(uptime);
        assertThat(third.path("volume").asText()).as("the persistent volume is still mounted").isEqualTo("before-the-restart");
        assertThat(third.path("scratch").asText()).as("so is the scratch volume").isEqualTo("before-the-restart");
        assertThat(attachedTo()).as("the volume is claimed again for the adopted VM").isNotEmpty();
        assertThat(qemusOfHome()).extracting(ProcessHandle::pid).containsExactly(pid);
        assertThat(rows()).singleElement().satisfies(r -> {
            assertThat(r.vm().pid()).isEqualTo(pid);
            assertThat(r.execution()).isEqualTo(e.id());
        });
        JsonNode about = null;
        for (JsonNode x : JSON.readTree(node.get("/about/executions/list").body()).path("executions")) {
            if (x.path("program").asText().equals(program.value())) about = x;
        }
        assertThat(about).as("/about/executions/list shows the adopted VM").isNotNull();
        assertThat(about.path("start").asText()).isEqualTo("adopt");
        assertThat(about.path("uptime_seconds").asDouble()).as("up since the first node booted it").isGreaterThan(uptime - 1);
        assertThat(node.node.pool().memoryReservedMiB()).as("its memory is accounted for again").isGreaterThanOrEqualTo(128);
    }

    @Test
    @Order(3)
    void killedWhileNoNodeRunsItIsStartedAgainOnce() throws Exception {
        node.closeLeavingPersistent();
        node = null;
        assertThat(alive(pid)).isTrue();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(30)).until(() -> !alive(pid));
        assertThat(PersistentVolumes.isDirty(image())).as("killed: marked for a check before its next attach").isTrue();

        node = startNode();
        Execution e = serving();
        assertThat(e.startKind()).isEqualTo(StartKind.BOOT);
        assertThat(scratch).as("the dead VM's scratch image is discarded").doesNotExist();
        long fresh = e.vm().pid();
        assertThat(fresh).isNotEqualTo(pid);
        JsonNode first = count();
        assertThat(first.path("count").asInt()).as("a new guest starts counting again").isEqualTo(1);
        assertThat(first.path("boot_id").asText()).isNotEqualTo(bootId);
        assertThat(first.path("volume").asText()).as("synced before the kill, kept after the check").isEqualTo("before-the-restart");
        assertThat(first.path("scratch").isNull()).as("a new VM gets a new scratch").isTrue();
        Thread.sleep(3_000);
        assertThat(qemusOfHome()).extracting(ProcessHandle::pid).containsExactly(fresh);
        assertThat(rows()).singleElement().satisfies(r -> assertThat(r.vm().pid()).isEqualTo(fresh));
        pid = fresh;
    }

    @Test
    @Order(4)
    void anAdoptedVmThatIsStoppedReleasesItsVolumeClean() throws Exception {
        call("/write?second");
        scratch = scratchOf(node.node.pool().running(program).orElseThrow());
        node.closeLeavingPersistent();
        node = startNode();
        Execution e = serving();
        assertThat(e.startKind()).isEqualTo(StartKind.ADOPT);
        assertThat(e.vm().pid()).isEqualTo(pid);
        assertThat(count().path("volume").asText()).isEqualTo("second");

        assertThat(node.node.pool().release(program, "test")).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> !alive(pid));
        await().atMost(Duration.ofSeconds(10)).until(() -> rows().isEmpty() && attachedTo().isEmpty());
        assertThat(PersistentVolumes.isDirty(image())).as("a clean stop of the adopted VM clears the mark").isFalse();
        fsckClean(image());
        assertThat(scratch).as("its scratch image goes when it ends").doesNotExist();
        assertThat(qemusOfHome()).isEmpty();

        // A later attach works: the program kept again boots with its volume.
        node.node.pool().keepRunning(program);
        Execution again = serving();
        assertThat(again.startKind()).isEqualTo(StartKind.BOOT);
        assertThat(count().path("volume").asText()).isEqualTo("second");
    }

    @Test
    @Order(5)
    void aNodeClosedStoppingEverythingLeavesNoVmAndNoRecord() throws Exception {
        var records = node.nodeRecords;
        node.node.closeStoppingAll();
        await().atMost(Duration.ofSeconds(30)).until(() -> qemusOfHome().isEmpty());
        assertThat(records.detachedVms().list()).isEmpty();
        records.close();
        node.storeRecords.close();
        node = null;
    }
}
