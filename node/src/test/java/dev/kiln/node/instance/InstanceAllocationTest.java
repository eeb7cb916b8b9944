package dev.kiln.node.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.MachineInfo;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.InstanceMessages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.volume.PersistentVolumes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code Instances.allocate} refuses before anything is made, and how a failed start shows,
 * on a real node (real store, SQLite, QEMU for the failing start) without booting a guest:
 * unknown hashes, messages of the wrong type, parents that are not instance root filesystems,
 * missing parents, bad seed values, volumes stored on the network; a QEMU that cannot start is
 * listed as failed with its words, and frees the persistent volumes its start claimed.
 */
class InstanceAllocationTest {
    @TempDir
    static Path dir;
    static TestNode node;
    static Instances instances;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.withAgents(dir.resolve("home"), new AgentVmLauncher(Duration.ZERO), c -> c);
        instances = node.node.instances();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static ItemHash instanceOn(Path parentImage, Consumer<ObjectNode> edit) throws Exception {
        ItemHash parent = node.localPublisher.publish(parentImage, null).messageHash();
        ObjectNode c = InstanceMessages.fixture("instance.json");
        ((ObjectNode) c.get("rootfs").get("parent")).put("ref", parent.value());
        c.remove("volumes");
        edit.accept(c);
        return InstanceMessages.record(node.nodeRecords, c);
    }

    static Path ext4(String name) throws Exception {
        Path img = dir.resolve(name);
        run(List.of("mke2fs", "-q", "-F", "-t", "ext4", img.toString(), "8M"));
        return img;
    }

    static void assertRefused(ItemHash hash, ErrorCode code, String field, String words) {
        assertThatThrownBy(() -> instances.allocate(hash)).isInstanceOfSatisfying(NodeException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            if (field != null) assertThat(e.details()).extracting(NodeException.Detail::path).contains(field);
            assertThat(e.getMessage()).contains(words);
        });
        assertThat(Files.exists(instances.dir(hash))).as("nothing made for a refused instance").isFalse();
    }

    @Test
    void anUnknownHashIsNotFound() {
        ItemHash unknown = ItemHash.sha256Of("no such message".getBytes(StandardCharsets.UTF_8));
        assertRefused(unknown, ErrorCode.PROGRAM_NOT_FOUND, null, "no program " + unknown);
        assertThatThrownBy(() -> instances.stop(unknown)).isInstanceOfSatisfying(NodeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> instances.erase(unknown)).isInstanceOfSatisfying(NodeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> instances.logs(unknown, 100)).isInstanceOfSatisfying(NodeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void aProgramMessageIsNotAnInstance() throws Exception {
        ItemHash program = node.publishSample(dev.kiln.core.message.Encoding.ZIP).message();
        assertRefused(program, ErrorCode.INVALID_PROGRAM, "type", "only INSTANCE messages");
    }

    @Test
    void aParentThatIsNotAnInstanceRootFilesystemIsRefusedByWhatItIs() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a disk");
        assertRefused(instanceOn(text, c -> {}), ErrorCode.UNSUPPORTED, "content.rootfs.parent.ref", "not an ext4");
        Path src = Files.createDirectories(dir.resolve("rt"));
        Files.writeString(src.resolve("f"), "x");
        Path squashfs = dir.resolve("rt.squashfs");
        run(List.of("mksquashfs", src.toString(), squashfs.toString(), "-quiet", "-noappend"));
        assertRefused(instanceOn(squashfs, c -> {}), ErrorCode.UNSUPPORTED, "content.rootfs.parent.ref", "squashfs");
        Path qcow2 = dir.resolve("cloud.qcow2");
        run(List.of("qemu-img", "create", "-q", "-f", "qcow2", qcow2.toString(), "16M"));
        assertRefused(instanceOn(qcow2, c -> {}), ErrorCode.UNSUPPORTED, "content.rootfs.parent.ref", "hypervisor: qemu");
    }

    @Test
    void aParentNeitherHereNorOnARemoteIsMissing() throws Exception {
        ItemHash hash = instanceOn(ext4("a.ext4"), c -> ((ObjectNode) c.get("rootfs").get("parent"))
                .put("ref", ItemHash.sha256Of("absent".getBytes(StandardCharsets.UTF_8)).value()));
        assertRefused(hash, ErrorCode.MISSING_ITEM, null, "content.rootfs.parent.ref");
    }

    @Test
    void aVariableThatIsNoShellNameIsRefusedBeforeAnyBoot() throws Exception {
        ItemHash hash = instanceOn(ext4("b.ext4"), c -> ((ObjectNode) c.get("variables")).put("NOT-A-NAME", "1"));
        assertRefused(hash, ErrorCode.INVALID_PROGRAM, "content.variables[\"NOT-A-NAME\"]", "NOT-A-NAME");
    }

    @Test
    void aQemuThatCannotStartIsListedAsFailedWithItsReasonAndStopKeepsItsDisk() throws Exception {
        // The agent node's kernel is a text file: QEMU refuses it before the guest exists.
        ItemHash hash = instanceOn(ext4("c.ext4"), c -> {});
        long reservedBefore = node.node.pool().memoryReservedMiB();
        instances.allocate(hash);
        await().atMost(Duration.ofMinutes(1)).until(() -> instances.list().stream()
                .anyMatch(i -> i.message().equals(hash) && i.state().equals("failed")));
        assertThat(node.node.pool().memoryReservedMiB()).as("a failed start gives its memory back").isEqualTo(reservedBefore);
        MachineInfo info = instances.list().stream().filter(i -> i.message().equals(hash)).findFirst().orElseThrow();
        assertThat(info.detail().get("last_failure")).contains("QEMU could not start");
        assertThat(instances.dir(hash).resolve("disk.qcow2")).as("the disk was made before the start").exists();
        instances.stop(hash);
        await().atMost(Duration.ofSeconds(30)).until(() -> instances.list().stream().noneMatch(i -> i.message().equals(hash)));
        assertThat(instances.dir(hash).resolve("disk.qcow2")).as("stop keeps the disk").exists();
        assertThat(InstanceState.read(instances.dir(hash)).orElseThrow().allocated()).as("recorded as not allocated").isFalse();
        assertThatThrownBy(() -> instances.reboot(hash)).as("a stopped instance is no longer allocated")
                .isInstanceOfSatisfying(NodeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        instances.erase(hash);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(instances.dir(hash)));
        assertThat(instances.list()).noneMatch(i -> i.message().equals(hash));
    }

    @Test
    void anInstanceLargerThanTheNodesMemoryBudgetFailsSayingSoAndHoldsNothing() throws Exception {
        long budget = node.node.pool().memoryBudgetMiB();
        ItemHash hash = instanceOn(ext4("big.ext4"), c -> ((ObjectNode) c.get("resources")).put("memory", budget + 1));
        instances.allocate(hash);
        await().atMost(Duration.ofMinutes(1)).until(() -> instances.list().stream()
                .anyMatch(i -> i.message().equals(hash) && i.state().equals("failed")));
        MachineInfo info = instances.list().stream().filter(i -> i.message().equals(hash)).findFirst().orElseThrow();
        assertThat(info.detail().get("last_failure")).contains("instance " + hash).contains("memory budget");
        assertThat(node.node.pool().memoryReservedMiB()).isZero();
        instances.erase(hash);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(instances.dir(hash)));
    }

    @Test
    void aVolumeStoredOnTheNetworkIsRefusedNamingItsPersistence() throws Exception {
        ItemHash hash = instanceOn(ext4("e.ext4"), c -> c.putArray("volumes").addObject().put("mount", "/data")
                .put("name", "data").put("persistence", "store").put("size_mib", 5));
        assertRefused(hash, ErrorCode.UNSUPPORTED, "content.volumes[0].persistence", "persistence: host");
    }

    @Test
    void persistentVolumesAreMadeAndClaimedForAStartFreedWhenItFailsRefusedWhileAnotherVmHasThemAndErased()
            throws Exception {
        ItemHash hash = instanceOn(ext4("d.ext4"), c -> {
            var volumes = c.putArray("volumes");
            volumes.addObject().put("mount", "/var/lib/example").put("name", "data").put("persistence", "host").put("size_mib", 5);
            volumes.addObject().put("mount", "/scratch").put("ephemeral", true).put("size_mib", 8);
        });
        String owner = InstanceMessages.fixture("instance.json").path("address").asText();
        PersistentVolumes store = node.node.pool().persistentVolumes().orElseThrow();
        Path image = store.image(owner, "data");
        // The kernel of the agent node is a text file: each start fails once the volumes are attached.
        instances.allocate(hash);
        awaitFailed(hash, "QEMU could not start");
        assertThat(image).as("made at the first start, size_mib").exists().hasSize(5L << 20);
        assertThat(store.list()).singleElement().satisfies(v -> assertThat(v.attachedTo()).as("freed when QEMU did not start").isNull());
        assertThat(instances.dir(hash).resolve("scratch1.ext4")).as("scratch made and discarded").doesNotExist();
        assertThat(InstanceState.read(instances.dir(hash)).orElseThrow().kept())
                .containsExactly(new InstanceState.Kept(owner, "data", 0));

        // Another VM (a program's) holds the volume: the instance's next start is refused naming it.
        var held = store.attach(owner, "data", 5, "program-vm", 0);
        instances.reboot(hash);
        awaitFailed(hash, "attached to the running VM program-vm");
        store.release(List.of(held), "program-vm", true);

        instances.erase(hash);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(instances.dir(hash)));
        assertThat(image).as("erase deletes the instance's persistent volumes").doesNotExist();
        assertThat(store.list()).isEmpty();
    }

    static void awaitFailed(ItemHash hash, String words) {
        await().atMost(Duration.ofMinutes(1)).until(() -> instances.list().stream().anyMatch(i -> i.message().equals(hash)
                && i.state().equals("failed") && i.detail().getOrDefault("last_failure", "").contains(words)));
    }

    static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + out).isZero();
    }
}
