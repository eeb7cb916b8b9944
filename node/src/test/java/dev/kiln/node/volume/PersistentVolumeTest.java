package dev.kiln.node.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.ParentVolume;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Resources;
import dev.kiln.core.message.Volume;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.Vm;
import java.net.http.HttpResponse;
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
 * Persistent volumes ({@code persistence: host}) on real QEMU, in order over one Kiln home: a
 * file written on the volume survives a stop, another program of the same owner naming the same
 * volume (an amend), a SIGKILL of QEMU in the middle of writes (the filesystem clean afterwards
 * per e2fsck), and a node restart; the volume is attached to one VM at a time; the program's
 * ephemeral scratch is empty at each boot; a volume with a {@code parent} starts as a copy of it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PersistentVolumeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MOUNT = "/var/lib/example";
    static final long SIZE_MIB = 32;

    @TempDir
    static Path dir;
    static TestNode node;
    static PublishedProgram program;
    static PublishedProgram amended;

    @BeforeAll
    static void start() throws Exception {
        node = startNode();
        program = publish("keeper", persistent("data"));
        // Another program (other variables: another message) of the same owner with the same volume.
        amended = publish("keeper-amended", persistent("data"));
    }

    static TestNode startNode() throws Exception {
        return TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c);
    }

    static Volume persistent(String name) {
        return PersistentVolume.of(MOUNT, name, Persistence.HOST, SIZE_MIB);
    }

    static PublishedProgram publish(String name, Volume volume) throws Exception {
        Path app = Path.of(PersistentVolumeTest.class.getResource("/dev/kiln/node/apps/keeper").toURI());
        return node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app", CodeInterface.ASGI, node.runtime,
                "test", Resources.of(1, 128, 60), Map.of("NAME", name), name, false,
                List.of(volume, EphemeralVolume.of("/tmp/scratch", 16))));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode get(PublishedProgram p, String path) throws Exception {
        HttpResponse<String> r = node.get(p.message(), path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("scratch")).as("the ephemeral scratch is empty at each boot").isEmpty();
        return body;
    }

    static Path image() throws Exception {
        try (var owners = Files.list(node.home.dir("volumes"))) {
            return owners.findFirst().orElseThrow().resolve("data.ext4");
        }
    }

    static void stopVm(PublishedProgram p) {
        Vm vm = node.node.pool().running(p.message()).orElseThrow().vm();
        assertThat(node.node.pool().stop(p.message(), "test")).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> vm.state().isTerminal());
        await().atMost(Duration.ofSeconds(10)).until(() -> node.node.pool().running(p.message()).isEmpty());
    }

    static int fsck(Path image) throws Exception {
        Process p = new ProcessBuilder(Ext4Images.tool("e2fsck").toString(), "-f", "-n", image.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        int status = p.waitFor();
        assertThat(status).as(out).isEqualTo(0);
        return status;
    }

    @Test
    @Order(1)
    void aFileWrittenOnTheVolumeIsThereAfterAStop() throws Exception {
        JsonNode first = get(program, "/");
        assertThat(first.path("entries")).as("a new persistent volume is empty").isEmpty();
        assertThat(first.path("total_bytes").asLong()).isLessThanOrEqualTo(SIZE_MIB << 20).isGreaterThan((SIZE_MIB - 8) << 20);
        get(program, "/write?name=kept&text=first");
        assertThat(image()).exists();
        assertThat(Files.size(image())).isEqualTo(SIZE_MIB << 20);
        assertThat(PersistentVolumes.isDirty(image())).as("marked while attached").isTrue();

        stopVm(program);
        assertThat(PersistentVolumes.isDirty(image())).as("a clean stop clears the mark: the agent unmounted the volume,"
                + " so its superblock says clean").isFalse();
        fsck(image());
        assertThat(get(program, "/read?name=kept").path("text").asText()).isEqualTo("first");

        HttpResponse<String> about = node.get("/about/volumes");
        assertThat(about.statusCode()).as(about.body()).isEqualTo(200);
        JsonNode v = JSON.readTree(about.body()).path("volumes").get(0);
        assertThat(v.path("name").asText()).isEqualTo("data");
        assertThat(v.path("size_mib").asLong()).isEqualTo(SIZE_MIB);
        assertThat(v.path("used_bytes").asLong()).as("the churn wrote megabytes").isGreaterThan(1L << 20);
        assertThat(v.path("attached_to").asText()).isEqualTo(node.node.pool().running(program.message()).orElseThrow().id());
        assertThat(v.path("dirty").asBoolean()).isTrue();
    }

    @Test
    @Order(2)
    void aSecondProgramNamingTheVolumeIsRefusedWhileItIsAttachedThenSeesItsFiles() throws Exception {
        assertThat(node.node.pool().running(program.message())).isPresent();
        HttpResponse<String> busy = node.get(amended.message(), "/");
        assertThat(busy.statusCode()).as(busy.body()).isEqualTo(409);
        JsonNode error = JSON.readTree(busy.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("volume_in_use");
        assertThat(error.path("message").asText()).contains("'data'", "one VM at a time");

        stopVm(program);
        assertThat(get(amended, "/read?name=kept").path("text").asText()).isEqualTo("first");
        stopVm(amended);
    }

    @Test
    @Order(3)
    void aQemuKilledMidWriteLeavesTheVolumeMarkedAndTheNextAttachChecksIt() throws Exception {
        get(program, "/churn");
        Thread.sleep(1500); // let the writes run
        Vm vm = node.node.pool().running(program.message()).orElseThrow().vm();
        ProcessHandle.of(vm.pid()).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.node.pool().running(program.message()).isEmpty());
        assertThat(PersistentVolumes.isDirty(image())).as("an unclean stop keeps the mark").isTrue();

        JsonNode after = get(program, "/read?name=kept");
        assertThat(after.path("text").asText()).isEqualTo("first");
        assertThat(after.path("entries").toString()).contains("churn-0");
        stopVm(program);
        fsck(image());
    }

    @Test
    @Order(4)
    void theVolumeSurvivesANodeRestart() throws Exception {
        node.close();
        node = startNode();
        assertThat(get(program, "/read?name=kept").path("text").asText()).isEqualTo("first");
    }

    @Test
    @Order(5)
    void storedOnTheNetworkIsRefusedNamingTheField() throws Exception {
        PublishedProgram store = publish("on-store", PersistentVolume.of(MOUNT, "elsewhere", Persistence.STORE, 8));
        HttpResponse<String> r = node.get(store.message(), "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("unsupported");
        assertThat(r.body()).contains("content.volumes[0].persistence");
    }

    @Test
    @Order(6)
    void aVolumeWithAParentStartsAsACopyOfItGrownToItsSize() throws Exception {
        Path content = Files.createDirectories(dir.resolve("parent-content"));
        Files.writeString(content.resolve("seed"), "from the parent");
        Path parentImage = dir.resolve("parent.ext4");
        try (var raf = new java.io.RandomAccessFile(parentImage.toFile(), "rw")) {
            raf.setLength(8L << 20);
        }
        Ext4Images.run(List.of(Ext4Images.tool("mkfs.ext4").toString(), "-q", "-F", "-d", content.toString(),
                parentImage.toString()), "mkfs.ext4 -d");
        var parent = node.localPublisher.publish(parentImage, null).messageHash();
        PersistentVolume withParent = new PersistentVolume(null, MOUNT, ParentVolume.of(parent), "host", "copy", SIZE_MIB,
                Map.of());
        PublishedProgram copied = publish("with-parent", withParent);

        JsonNode first = get(copied, "/read?name=seed");
        assertThat(first.path("text").asText()).isEqualTo("from the parent");
        assertThat(first.path("total_bytes").asLong()).as("grown from the parent's 8 MiB to size_mib")
                .isGreaterThan((SIZE_MIB - 8) << 20);
        get(copied, "/write?name=seed&text=changed");
        stopVm(copied);
        assertThat(get(copied, "/read?name=seed").path("text").asText())
                .as("the parent is copied once; afterwards the volume is the program's own").isEqualTo("changed");
        stopVm(copied);
    }
}
