package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.MachineInfo;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.testing.InstanceMessages;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.Ssh;
import dev.kiln.node.testing.TestNode;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rootfs instance run by the node, on real QEMU (TCG) with the real OpenSSH client. The message
 * is fixtures/aleph-messages/instance.json with its references replaced by images built here (the
 * Debian 12 instance-rootfs and a small squashfs volume), its key replaced by one made for the
 * test (its aleph_api and shared_cache stay on), and an ephemeral volume added (kept by a
 * re-adopted QEMU, new and empty after a reboot) and a persistent one (claimed by the next node
 * before it re-adopts the QEMU, clean after the guest's power-off, kept by reboot, deleted by erase).
 * One instance, two boots shared by the ordered checks: SSH (loopback only), seed and volume; the
 * guest API at its address inside the guest (properties, the program's cache, a verified read of
 * a file in the node's store); a node restart that re-adopts the running QEMU instead of rebooting
 * it, its guest API served again by the new node; the guest's power-off
 * ending its QEMU; reboot starting it again on the kept disk; erase; the parent image unchanged.
 * The confidential fixture is refused naming trusted_execution. (This replaces vm's former
 * InstanceBootTest, whose checks are all here, to keep the suite's boots few.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InstanceNodeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** First boots under TCG on a loaded 2-core host take minutes (cloud-init grows the disk, makes host keys). */
    static final Duration BOOT = Duration.ofMinutes(8);

    @TempDir
    static Path dir;
    static TestNode node;
    static Ssh ssh;
    static ItemHash instance;
    static long firstPid;
    static String bootId;
    static double uptimeBeforeRestart;
    static Path parentImage;
    static String owner;
    static ItemHash parentBefore;
    static String volumeSha256;
    /** Python is in the image (cloud-init's own language); the arguments are method, path, body. */
    static final String GUEST_API_CALL = "python3 -c 'import sys, urllib.request as u; r = u.Request(\"http://10.0.2.100\""
            + " + sys.argv[2], method=sys.argv[1], data=sys.argv[3].encode() if len(sys.argv) > 3 else None);"
            + " b = u.urlopen(r, timeout=30).read(); print(__import__(\"hashlib\").sha256(b).hexdigest()"
            + " if sys.argv[2].startswith(\"/api/v0/storage/raw/\") else b.decode())'";

    @BeforeAll
    static void start() throws Exception {
        node = startNode();
        parentImage = TestBuilds.runtime("debian-12-instance").image();
        ItemHash parent = node.localPublisher.publish(parentImage, null).messageHash();
        Path volumeSource = Files.createDirectories(dir.resolve("venv"));
        Files.writeString(volumeSource.resolve("hello"), "from the volume\n");
        Path volume = dir.resolve("venv.squashfs");
        run(List.of("mksquashfs", volumeSource.toString(), volume.toString(), "-quiet", "-noappend", "-all-root"));
        ItemHash venv = node.localPublisher.publish(volume, null).messageHash();
        ssh = Ssh.newKey(Files.createDirectories(dir.resolve("ssh")));

        ObjectNode content = fixture("instance.json");
        ((ObjectNode) content.get("rootfs").get("parent")).put("ref", parent.value());
        ((ObjectNode) content.get("volumes").get(0)).put("ref", venv.value());
        // An ephemeral volume beside the fixture's immutable one: one QEMU's scratch space.
        content.withArray("volumes").addObject().put("mount", "/scratch").put("ephemeral", true).put("size_mib", 16);
        // And a persistent one: claimed while the QEMU runs, by the next node too.
        content.withArray("volumes").addObject().put("mount", "/var/lib/kept").put("name", "kept")
                .put("persistence", "host").put("size_mib", 8);
        owner = content.path("address").asText();
        content.putArray("authorized_keys").add(ssh.publicKey());
        instance = record(content);
        volumeSha256 = ItemHash.sha256Of(volume).value();
        parentBefore = ItemHash.sha256Of(parentImage);
    }

    @AfterAll
    static void stop() {
        eraseAndClose(node, instance);
    }

    /**
     * After an instance test: the instance erased through its node (and its QEMU ended if the
     * erase failed: a test must not leak a VM), the node closed, any QEMU of it still found ended.
     */
    static void eraseAndClose(TestNode node, ItemHash instance) {
        if (instance == null) {
            if (node != null) node.close();
            return;
        }
        if (node == null) {
            qemuProcesses(instance).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            return;
        }
        try {
            if (Files.exists(node.node.instances().dir(instance))) {
                Optional<Long> pid = node.node.instances().pid(instance);
                node.node.instances().erase(instance);
                await().atMost(Duration.ofMinutes(1)).until(() -> !Files.exists(node.node.instances().dir(instance)));
                pid.flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (NodeException | RuntimeException gone) {
            // erased by the test
        } finally {
            node.close();
            qemuProcesses(instance).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    @Test
    @Order(1)
    void theConfidentialFixtureIsRefusedNamingTrustedExecution() throws Exception {
        ObjectNode confidential = fixture("confidential_instance.json");
        ItemHash hash = record(confidential);
        assertThatThrownBy(() -> node.node.instances().allocate(hash)).isInstanceOfSatisfying(NodeException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
            assertThat(e.details()).extracting(NodeException.Detail::path).containsExactly("content.environment.trusted_execution");
            assertThat(e.getMessage()).contains("SEV");
        });
        assertThat(node.node.instances().list()).isEmpty();
        assertThat(Files.exists(node.node.instances().dir(hash))).as("nothing made for a refused instance").isFalse();
    }

    @Test
    @Order(2)
    void theAllocatedInstanceServesSshWithTheMessagesKeyVariablesAndVolume() throws Exception {
        long t0 = System.nanoTime();
        // Allocated as an operator does, twice: the node converges to the set, so still one VM.
        for (int i = 0; i < 2; i++) {
            var allocated = node.operator("POST", "/control/allocations",
                    "{\"persistent_vms\": [], \"instances\": [\"" + instance.value() + "\"]}");
            assertThat(allocated.statusCode()).as(allocated.body()).isEqualTo(200);
        }
        int port = awaitRunning().sshPort().orElseThrow();
        ssh.awaitCloudInit(port, BOOT, InstanceNodeTest::console);
        System.out.println("rootfs instance via the node (TCG): allocate to cloud-init done over SSH in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertThat(ssh.check(port, "hostname")).isEqualTo("instance-" + instance.value().substring(0, 12));
        assertThat(ssh.check(port, "cat /proc/1/comm")).isEqualTo("systemd");
        assertThat(ssh.check(port, "cat /etc/kiln/variables")).isEqualTo("VM_CUSTOM_NUMBER=32");
        assertThat(ssh.check(port, "cat /opt/venv/hello")).isEqualTo("from the volume");
        assertThat(ssh.check(port, "findmnt -no OPTIONS /opt/venv")).startsWith("ro");
        assertThat(ssh.check(port, "findmnt -no FSTYPE,OPTIONS /scratch")).startsWith("ext4").contains("rw");
        ssh.check(port, "echo this-qemu > /scratch/note && sync");
        assertThat(scratchImage()).exists();
        assertThat(ssh.check(port, "findmnt -no FSTYPE,OPTIONS /var/lib/kept")).startsWith("ext4").contains("rw");
        ssh.check(port, "echo kept-on-the-volume > /var/lib/kept/file && sync");
        assertThat(keptVolume().attachedTo()).isEqualTo(vmName());
        long rootBytes = Long.parseLong(ssh.check(port, "df -B1 --output=size / | tail -1"));
        assertThat(rootBytes).as("grown towards size_mib 5000").isGreaterThan(4000L << 20);
        assertThat(forwardReachableOffLoopback(port)).as("SSH forward bound to loopback only").isFalse();
        ssh.check(port, "echo kept > /root/marker && sync");

        var properties = JSON.readTree(guestApi(port, "GET", "/properties"));
        assertThat(properties.path("item_hash").asText()).isEqualTo(instance.value());
        assertThat(properties.path("guest_api").path("shared_cache").asBoolean()).isTrue();
        assertThat(guestApi(port, "PUT", "/cache/greeting", "hello")).isEqualTo("true");
        assertThat(guestApi(port, "GET", "/cache/greeting")).isEqualTo("hello");
        assertThat(guestApi(port, "GET", "/api/v0/storage/raw/" + volumeSha256)).as("the store's verified bytes")
                .isEqualTo(volumeSha256);
        firstPid = node.node.instances().pid(instance).orElseThrow();
        assertThat(qemuProcesses()).containsExactly(firstPid);
        var about = JSON.readTree(node.get("/about/executions/list").body()).path("instances");
        assertThat(about).hasSize(1);
        assertThat(about.get(0).path("item_hash").asText()).isEqualTo(instance.value());
        assertThat(about.get(0).path("state").asText()).isEqualTo("running");
        assertThat(about.get(0).path("ssh_port").asInt()).isEqualTo(port);
    }

    @Test
    @Order(3)
    void aNodeRestartReAdoptsTheRunningInstanceWithoutRebootingIt() throws Exception {
        int port = awaitRunning().sshPort().orElseThrow();
        bootId = ssh.check(port, "cat /proc/sys/kernel/random/boot_id");
        uptimeBeforeRestart = uptime(port);
        node.close();
        node = null;
        assertThat(alive(firstPid)).as("the node's stop leaves the instance running").isTrue();
        assertThat(ssh.check(port, "cat /root/marker")).as("reachable while no node runs").isEqualTo("kept");
        node = startNode();
        // Claimed by the new node as it opens, before the instance is re-adopted: no program can take it meanwhile.
        assertThat(keptVolume().attachedTo()).isEqualTo(vmName());
        MachineInfo info = awaitRunning();
        assertThat(info.detail()).containsEntry("adopted", "true").containsEntry("pid", Long.toString(firstPid));
        assertThat(info.sshPort()).contains(port);
        assertThat(qemuProcesses()).as("never two QEMUs for one instance").containsExactly(firstPid);
        assertThat(ssh.check(port, "cat /proc/sys/kernel/random/boot_id")).as("same boot").isEqualTo(bootId);
        assertThat(uptime(port)).isGreaterThan(uptimeBeforeRestart);
        assertThat(ssh.check(port, "cat /root/marker")).isEqualTo("kept");
        assertThat(ssh.check(port, "cat /scratch/note")).as("the re-adopted QEMU keeps its scratch volume").isEqualTo("this-qemu");
        assertThat(scratchImage()).exists();
        assertThat(ssh.check(port, "cat /var/lib/kept/file")).isEqualTo("kept-on-the-volume");
        assertThat(keptVolume().attachedTo()).isEqualTo(vmName());
        assertThatThrownBy(() -> node.node.pool().persistentVolumes().orElseThrow().attach(owner, "kept", 8, "a-program-vm", 0))
                .isInstanceOf(dev.kiln.node.volume.PersistentVolumes.InUseException.class);
        assertThat(JSON.readTree(guestApi(port, "GET", "/properties")).path("item_hash").asText())
                .as("the new node serves the adopted VM's API").isEqualTo(instance.value());
    }

    static String guestApi(int port, String method, String path, String... body) throws Exception {
        StringBuilder cmd = new StringBuilder(GUEST_API_CALL).append(" ").append(method).append(" '").append(path).append("'");
        for (String b : body) cmd.append(" '").append(b).append("'");
        return ssh.check(port, cmd.toString());
    }

    @Test
    @Order(4)
    void aGuestThatPowersOffEndsItsQemuAndIsListedStoppedWithTheReason() throws Exception {
        int port = awaitRunning().sshPort().orElseThrow();
        ssh.run(port, "systemctl poweroff", Duration.ofSeconds(60)); // the session may end before an answer
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                node.node.instances().list().stream().anyMatch(i -> i.message().equals(instance) && i.state().equals("stopped")));
        await().atMost(Duration.ofSeconds(20)).until(() -> !alive(firstPid));
        MachineInfo info = node.node.instances().list().getFirst();
        assertThat(info.detail().get("last_failure")).contains("QEMU exited");
        assertThat(qemuProcesses()).isEmpty();
        assertThat(scratchImage()).as("discarded with its QEMU").doesNotExist();
        var kept = keptVolume();
        assertThat(kept.attachedTo()).as("released with its QEMU").isNull();
        assertThat(kept.dirty()).as("the guest unmounted it at power-off: no check needed").isFalse();
    }

    @Test
    @Order(5)
    void rebootStartsTheStoppedGuestAgainOnTheSameDisk() throws Exception {
        long t0 = System.nanoTime();
        var rebooted = node.operator("POST", "/control/machine/" + instance.value() + "/reboot", null);
        assertThat(rebooted.statusCode()).as(rebooted.body()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() ->
                node.node.instances().pid(instance).filter(p -> p != firstPid).isPresent());
        int port = awaitRunning().sshPort().orElseThrow();
        ssh.awaitCloudInit(port, BOOT, InstanceNodeTest::console);
        System.out.println("rootfs instance via the node (TCG): reboot to cloud-init done over SSH in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertThat(ssh.check(port, "cat /proc/sys/kernel/random/boot_id")).as("a new boot").isNotEqualTo(bootId);
        assertThat(ssh.check(port, "cat /root/marker")).as("the disk is kept").isEqualTo("kept");
        assertThat(ssh.check(port, "findmnt -no FSTYPE /scratch")).isEqualTo("ext4");
        assertThat(ssh.check(port, "cat /var/lib/kept/file")).as("the persistent volume is kept").isEqualTo("kept-on-the-volume");
        assertThat(ssh.run(port, "test -e /scratch/note", Duration.ofSeconds(60)).status())
                .as("a new QEMU gets a new, empty scratch volume").isEqualTo(1);
        assertThat(qemuProcesses()).hasSize(1);
        var logs = node.operator("GET", "/control/machine/" + instance.value() + "/logs", null);
        assertThat(logs.statusCode()).isEqualTo(200);
        assertThat(logs.body()).contains("Linux version");
    }

    @Test
    @Order(6)
    void eraseStopsTheInstanceAndDeletesItsDiskLeavingTheParentAlone() throws Exception {
        long pid = node.node.instances().pid(instance).orElseThrow();
        Path disk = node.node.instances().dir(instance).resolve("disk.qcow2");
        assertThat(disk).exists();
        var erased = node.operator("POST", "/control/machine/" + instance.value() + "/erase", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(1)).until(() -> !Files.exists(node.node.instances().dir(instance)));
        await().atMost(Duration.ofSeconds(20)).until(() -> !alive(pid)); // its QEMU is gone
        assertThat(node.node.instances().list()).isEmpty();
        assertThat(node.node.pool().persistentVolumes().orElseThrow().list()).as("erase deletes the persistent volume").isEmpty();
        assertThatThrownBy(() -> node.node.instances().reboot(instance)).isInstanceOfSatisfying(NodeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThat(ItemHash.sha256Of(parentImage)).as("the parent image is never written").isEqualTo(parentBefore);
    }

    static TestNode startNode() throws Exception {
        return TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c);
    }

    static String vmName() {
        return "kiln-instance-" + instance.value();
    }

    static dev.kiln.node.volume.VolumeInfo keptVolume() throws Exception {
        var all = node.node.pool().persistentVolumes().orElseThrow().list();
        assertThat(all).extracting(dev.kiln.node.volume.VolumeInfo::name).containsExactly("kept");
        return all.getFirst();
    }

    static Path scratchImage() {
        return node.node.instances().dir(instance).resolve("scratch1.ext4");
    }

    static MachineInfo awaitRunning() {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).until(() ->
                node.node.instances().list().stream().anyMatch(i -> i.message().equals(instance) && i.state().equals("running")));
        return node.node.instances().list().stream().filter(i -> i.message().equals(instance)).findFirst().orElseThrow();
    }

    static List<Long> qemuProcesses() {
        return qemuProcesses(instance);
    }

    /** The pids of every process on the host whose command line names {@code of}'s VM. */
    static List<Long> qemuProcesses(ItemHash of) {
        String name = "kiln-instance-" + of.value();
        return ProcessHandle.allProcesses().filter(p -> {
            try {
                byte[] cmd = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
                return List.of(new String(cmd, StandardCharsets.UTF_8).split("\0")).contains(name);
            } catch (Exception gone) {
                return false;
            }
        }).map(ProcessHandle::pid).toList();
    }

    /**
     * Whether {@code pid} runs and is not a zombie: a QEMU that daemonized is no child of ours, and
     * lingers as a zombie until the host's init reaps it, which {@link ProcessHandle#isAlive}
     * counts as alive.
     */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (Exception gone) {
            return false;
        }
    }

    /** Connects to the forwarded port on one of the host's non-loopback IPv4 addresses, if it has one. */
    static boolean forwardReachableOffLoopback(int port) throws Exception {
        Optional<InetAddress> other = NetworkInterface.networkInterfaces()
                .filter(i -> { try { return i.isUp() && !i.isLoopback(); } catch (Exception e) { return false; } })
                .flatMap(NetworkInterface::inetAddresses).filter(a -> a instanceof Inet4Address).findFirst();
        if (other.isEmpty()) return false;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(other.get(), port), 2000);
            return true;
        } catch (java.io.IOException refused) {
            return false;
        }
    }

    static double uptime(int port) throws Exception {
        return Double.parseDouble(ssh.check(port, "cut -d' ' -f1 /proc/uptime"));
    }

    static String console() {
        try {
            String c = node.node.instances().logs(instance, 4000);
            return "console:\n" + c;
        } catch (NodeException e) {
            return e.getMessage();
        }
    }

    static ObjectNode fixture(String name) throws Exception {
        return InstanceMessages.fixture(name);
    }

    static ItemHash record(ObjectNode content) throws Exception {
        return InstanceMessages.record(node.nodeRecords, content);
    }

    static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + out).isZero();
    }
}
