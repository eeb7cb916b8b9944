package dev.kiln.node.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.Drive;
import dev.kiln.vm.Vm;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ephemeral volumes on real QEMU: a writable ext4 scratch filesystem of the declared size at the
 * declared mount, empty at each boot, its image gone from the host once the VM has stopped. One
 * program, whose VM is stopped and booted again between the checks.
 */
class EphemeralVolumeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long SIZE_MIB = 64;

    @TempDir
    static Path dir;
    static TestNode node;
    static PublishedProgram program;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c);
        Path app = Path.of(EphemeralVolumeTest.class.getResource("/dev/kiln/node/apps/scratch").toURI());
        program = node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app", CodeInterface.ASGI, node.runtime,
                "test", Resources.of(1, 128, 60), Map.of(), "scratch", false,
                List.of(EphemeralVolume.of("/scratch", SIZE_MIB))));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode get(String path) throws Exception {
        HttpResponse<String> r = node.get(program.message(), path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static Vm vm() {
        return node.node.pool().running(program.message()).orElseThrow().vm();
    }

    static Drive scratchDrive(Vm vm) {
        return vm.spec().drives().stream().filter(d -> !d.readOnly()).findFirst().orElseThrow();
    }

    static void stopVm() {
        Vm vm = vm();
        assertThat(node.node.pool().stop(program.message(), "test")).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> vm.state().isTerminal());
        await().atMost(Duration.ofSeconds(10)).until(() -> node.node.pool().running(program.message()).isEmpty());
    }

    @Test
    void theScratchIsAWritableExt4OfTheDeclaredSizeEmptyAtEachBootAndDiscardedAfter() throws Exception {
        JsonNode first = get("/");
        assertThat(first.path("entries")).as("a new scratch volume has nothing in it").isEmpty();
        assertThat(first.path("mounts").get(0).get(2).asText()).isEqualTo("ext4");
        assertThat(first.path("mounts").get(0).get(3).asText()).startsWith("rw");
        long total = first.path("total_bytes").asLong();
        assertThat(total).as("the filesystem's size follows size_mib")
                .isLessThanOrEqualTo(SIZE_MIB << 20).isGreaterThan((SIZE_MIB - 8) << 20);

        assertThat(get("/write?name=marker").path("entries").toString()).contains("marker");
        Path image = scratchDrive(vm()).file();
        assertThat(image).exists();
        assertThat(Files.size(image)).isEqualTo(SIZE_MIB << 20);

        stopVm();
        assertThat(image).as("the scratch image goes with its VM").doesNotExist();

        JsonNode second = get("/");
        assertThat(second.path("entries")).as("the next VM's scratch does not keep the last one's files").isEmpty();
        assertThat(scratchDrive(vm()).file()).exists();
    }

    @Test
    void writingMoreThanTheSizeFailsInsideTheGuestWithNoSpaceLeft() throws Exception {
        JsonNode fill = get("/fill");
        assertThat(fill.path("error").asText()).isEqualTo("No space left on device");
        assertThat(fill.path("written").asLong()).isLessThanOrEqualTo(SIZE_MIB << 20).isGreaterThan((SIZE_MIB / 2) << 20);
    }
}
