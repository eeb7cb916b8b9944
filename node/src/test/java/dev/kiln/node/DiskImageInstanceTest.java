package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.MachineInfo;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.testing.InstanceMessages;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.Ssh;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.volume.Ext4Images;
import dev.kiln.node.volume.PersistentVolumes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk-image instance run by the node: fixtures/aleph-messages/qemu.json (a real aleph INSTANCE,
 * {@code hypervisor: qemu}, with the persistent volume {@code data} at /var/lib/example) with its
 * parent replaced by the {@code debian-12-cloud} disk built here and its key by one made for the
 * test, allocated through {@code POST /control/allocations} with the operator token, on real QEMU
 * (PC machine, SeaBIOS, the image's GRUB and kernel) with the real OpenSSH client; every other
 * field as published (internet, aleph_api and shared_cache on). One instance, one boot shared by
 * the ordered checks: the boot path and seed, the guest API at its address, the writable volume
 * claimed while QEMU runs, a file on it found in the host-side image after the operator's stop,
 * erase deleting disk and volume, the parent unchanged. A reboot keeping the disk and volumes is
 * InstanceNodeTest's (the same InstanceMachine path; a second disk-image boot costs ~160 s of the
 * suite's budget). This replaces vm's former DiskImageBootTest, whose checks are all here.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DiskImageInstanceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** First boots under TCG on a loaded 2-core host take minutes (GRUB, initramfs, cloud-init's growpart, host keys). */
    static final Duration BOOT = Duration.ofMinutes(8);
    static final String PROOF = "written on the volume";

    @TempDir
    static Path dir;
    static TestNode node;
    static Ssh ssh;
    static ItemHash instance;
    static String owner;
    static Path parentImage;
    static ItemHash parentBefore;
    static long firstPid;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c);
        parentImage = TestBuilds.runtime("debian-12-cloud").image();
        parentBefore = ItemHash.sha256Of(parentImage);
        ItemHash parent = node.localPublisher.publish(parentImage, null).messageHash();
        ssh = Ssh.newKey(Files.createDirectories(dir.resolve("ssh")));

        ObjectNode content = InstanceMessages.fixture("qemu.json");
        ((ObjectNode) content.get("rootfs").get("parent")).put("ref", parent.value());
        content.putArray("authorized_keys").add(ssh.publicKey());
        owner = content.path("address").asText();
        instance = InstanceMessages.record(node.nodeRecords, content);
    }

    @AfterAll
    static void stop() {
        InstanceNodeTest.eraseAndClose(node, instance);
    }

    @Test
    @Order(1)
    void allocatedByTheOperatorItBootsItsOwnKernelAndMountsTheWritableVolume() throws Exception {
        long t0 = System.nanoTime();
        var allocated = node.operator("POST", "/control/allocations", "{\"instances\": [\"" + instance.value() + "\"]}");
        assertThat(allocated.statusCode()).as(allocated.body()).isEqualTo(200);
        assertThat(JSON.readTree(allocated.body()).path("started")).extracting(JsonNode::asText).containsExactly(instance.value());
        int port = awaitRunning().sshPort().orElseThrow();
        ssh.awaitCloudInit(port, BOOT, DiskImageInstanceTest::console);
        System.out.println("disk-image instance via the operator API (TCG, pc + SeaBIOS + GRUB): allocate to cloud-init"
                + " done over SSH in " + (System.nanoTime() - t0) / 1_000_000 + " ms");

        // The disk's GRUB loaded Debian's own kernel with the image's command line.
        assertThat(node.node.instances().logs(instance, 1 << 20)).contains("Loading /vmlinuz");
        assertThat(ssh.check(port, "uname -r")).endsWith("-cloud-amd64");
        assertThat(ssh.check(port, "cat /proc/cmdline")).contains("root=UUID=").doesNotContain("tsc_early_khz");
        assertThat(ssh.check(port, "cat /proc/1/comm")).isEqualTo("systemd");
        assertThat(ssh.check(port, "hostname")).isEqualTo("instance-" + instance.value().substring(0, 12));
        assertThat(ssh.check(port, "cat /etc/kiln/variables")).isEqualTo("VM_CUSTOM_NUMBER=32");
        assertThat(ssh.check(port, "findmnt -n -o SOURCE /")).isEqualTo("/dev/vda1");
        long rootBytes = Long.parseLong(ssh.check(port, "df -B1 --output=size / | tail -1"));
        assertThat(rootBytes).as("grown into rootfs.size_mib 5000").isGreaterThan(4000L << 20);
        firstPid = node.node.instances().pid(instance).orElseThrow();
        assertThat(qemuCommandLine(firstPid)).as("internet: true, no restrict=on").doesNotContain("restrict=on");

        // The persistent volume: its own 5 MiB ext4, read-write, through the drive's serial.
        assertThat(ssh.check(port, "readlink -f /dev/disk/by-id/virtio-kiln-volume-0"))
                .isEqualTo(ssh.check(port, "findmnt -n -o SOURCE /var/lib/example"));
        assertThat(ssh.check(port, "findmnt -n -o FSTYPE,OPTIONS /var/lib/example")).startsWith("ext4").contains("rw");
        long volumeBytes = Long.parseLong(ssh.check(port, "df -B1 --output=size /var/lib/example | tail -1"));
        assertThat(volumeBytes).as("size_mib 5, less the journal and inode tables").isBetween(2L << 20, 5L << 20);
        ssh.check(port, "echo '" + PROOF + "' > /var/lib/example/proof && sync");

        // The guest API through the firmware-booted guest's own network (no Kiln agent in it).
        JsonNode properties = JSON.readTree(ssh.check(port, InstanceNodeTest.GUEST_API_CALL + " GET /properties"));
        assertThat(properties.path("item_hash").asText()).isEqualTo(instance.value());
        assertThat(ssh.check(port, InstanceNodeTest.GUEST_API_CALL + " PUT /cache/seen yes")).isEqualTo("true");

        JsonNode volume = onlyVolume();
        assertThat(volume.path("attached_to").asText()).isEqualTo("kiln-instance-" + instance.value());
        assertThat(volume.path("size_mib").asInt()).isEqualTo(5);
        PersistentVolumes store = node.node.pool().persistentVolumes().orElseThrow();
        assertThatThrownBy(() -> store.attach(owner, "data", 5, "some-program-vm", 0))
                .as("one VM at a time: a program of the same owner cannot take it").isInstanceOf(PersistentVolumes.InUseException.class);
    }

    @Test
    @Order(3)
    void afterTheStopTheFileIsInTheHostSideImageAndTheVolumeIsFree() throws Exception {
        long pid = node.node.instances().pid(instance).orElseThrow();
        var stopped = node.operator("POST", "/control/machine/" + instance.value() + "/stop", null);
        assertThat(stopped.statusCode()).as(stopped.body()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(1)).until(() -> !InstanceNodeTest.alive(pid)
                && node.node.instances().list().stream().noneMatch(i -> i.message().equals(instance)));
        assertThat(node.node.instances().dir(instance).resolve("disk.qcow2")).as("stop keeps the disk").exists();
        JsonNode volume = onlyVolume();
        assertThat(volume.path("attached_to").isNull()).as("released with its QEMU: " + volume).isTrue();

        // QEMU was stopped under a mounted filesystem: the journal is replayed on a copy, as the node's
        // e2fsck -p does before the next attach, and the copy is then clean and holds the file.
        Path image = node.node.pool().persistentVolumes().orElseThrow().image(owner, "data");
        Path copy = Files.copy(image, dir.resolve("data-copy.ext4"));
        Tool preen = tool("e2fsck", "-p", copy.toString());
        assertThat(preen.status()).as(preen.output()).isLessThanOrEqualTo(1);
        Tool check = tool("e2fsck", "-f", "-n", copy.toString());
        assertThat(check.status()).as(check.output()).isZero();
        assertThat(tool("debugfs", "-R", "cat /proof", copy.toString()).output()).contains(PROOF);
    }

    @Test
    @Order(4)
    void eraseDeletesTheDiskAndThePersistentVolumeLeavingTheParentAlone() throws Exception {
        Path image = node.node.pool().persistentVolumes().orElseThrow().image(owner, "data");
        var erased = node.operator("POST", "/control/machine/" + instance.value() + "/erase", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(1)).until(() -> !Files.exists(node.node.instances().dir(instance)) && !Files.exists(image));
        assertThat(JSON.readTree(node.get("/about/volumes").body()).path("volumes")).isEmpty();
        assertThat(InstanceNodeTest.qemuProcesses(instance)).isEmpty();
        assertThat(ItemHash.sha256Of(parentImage)).as("the parent image is never written").isEqualTo(parentBefore);
    }

    static MachineInfo awaitRunning() {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).until(() ->
                node.node.instances().list().stream().anyMatch(i -> i.message().equals(instance) && i.state().equals("running")));
        return node.node.instances().list().stream().filter(i -> i.message().equals(instance)).findFirst().orElseThrow();
    }

    static JsonNode onlyVolume() throws Exception {
        JsonNode volumes = JSON.readTree(node.get("/about/volumes").body()).path("volumes");
        assertThat(volumes).as(volumes.toString()).hasSize(1);
        assertThat(volumes.get(0).path("owner").asText()).isEqualTo(owner.toLowerCase(java.util.Locale.ROOT));
        assertThat(volumes.get(0).path("name").asText()).isEqualTo("data");
        return volumes.get(0);
    }

    record Tool(int status, String output) {
    }

    /** An e2fsprogs tool, run to its end. */
    static Tool tool(String name, String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of(Ext4Images.tool(name).toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Tool(p.waitFor(), out);
    }

    static String qemuCommandLine(long pid) throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                .replace('\0', ' ');
    }

    static String console() {
        try {
            return "console:\n" + node.node.instances().logs(instance, 4000);
        } catch (NodeException e) {
            return e.getMessage();
        }
    }
}
