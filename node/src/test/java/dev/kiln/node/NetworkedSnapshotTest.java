package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.network.FakeInternet;
import dev.kiln.network.HostCommands;
import dev.kiln.network.Ipv6Prefix;
import dev.kiln.network.NetnsLab;
import dev.kiln.network.NetworkSettings;
import dev.kiln.network.NodeNetwork;
import dev.kiln.network.VmIpv6;
import dev.kiln.network.VmKind;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.pool.StartKind;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.testing.NamespacedQemu;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A networked program's snapshot restored on real QEMU, in the namespace harness of
 * {@link NetworkedProgramTest} (real TAPs and nftables in namespaces the test makes; a fake internet
 * of one namespace stands in for the real one): every restored copy runs on its own TAP, takes
 * the address, gateway and MAC the node gave that VM (not the saved VM's), and reaches the internet
 * over IPv4 (DNS, HTTP through the node's NAT) and IPv6.
 */
class NetworkedSnapshotTest {
    private static final Pattern MAC = Pattern.compile("mac=([0-9a-f:]{17})");

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @TempDir
    Path dir;

    @Test
    void restoredCopiesOfANetworkedProgramTakeTheirOwnAddressAndMacAndReachTheInternet() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands nodeNs = lab.in(internet.node);
        QemuLauncher launcher = NamespacedQemu.launcher(lab, internet.node);
        Ipv6Prefix prefix = Ipv6Prefix.parse(FakeInternet.VM_PREFIX6);
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of(FakeInternet.SERVER)).withIpv6(prefix);
        ProgramNetworks networks = ProgramNetworks.over(NodeNetwork.start(settings, nodeNs));
        Path app = Path.of(NetworkedSnapshotTest.class.getResource("/dev/kiln/node/apps/netcheck").toURI());
        try (TestNode node = TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c, List.of(), networks)) {
            ItemHash program = node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app", CodeInterface.ASGI,
                    node.runtime, "test", Resources.of(1, 128, 30), Map.of(), "online", true)).message();
            String ipv6 = VmIpv6.derive(prefix, program.value(), VmKind.PROGRAM).guest();

            Copy saved = copy(node, nodeNs, program, ipv6);
            assertThat(saved.start()).isEqualTo(StartKind.BOOT);
            await("the snapshot of the networked program").atMost(Duration.ofSeconds(90)).until(() -> snapshots(node) == 1);

            Set<String> addresses = new HashSet<>(List.of(saved.address()));
            Set<String> macs = new HashSet<>(List.of(saved.mac()));
            for (int i = 1; i <= 2; i++) {
                NodeBenchmark.stopAndWait(node, program);
                Copy restored = copy(node, nodeNs, program, ipv6);
                assertThat(restored.start()).as("copy " + i).isEqualTo(StartKind.RESTORE);
                assertThat(addresses.add(restored.address())).as("copy %d's address %s is its own", i, restored.address()).isTrue();
                assertThat(macs.add(restored.mac())).as("copy %d's MAC %s is its own", i, restored.mac()).isTrue();
            }
            assertThat(snapshots(node)).as("restores reuse the one snapshot").isEqualTo(1);
        }
        assertThat(nodeNs.run("ip", "-o", "link", "show").stdout()).as("no TAP left").doesNotContain("kiln-");
    }

    /** What one VM of the program shows, checked against what the node gave it. */
    record Copy(StartKind start, String address, String mac) {
    }

    private static Copy copy(TestNode node, HostCommands nodeNs, ItemHash program, String ipv6) throws Exception {
        // The first request is the one that boots or restores: the copy must be readdressed before it.
        var page = node.get(program, "/fetch?url=http://" + FakeInternet.HOST_NAME + "/");
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        assertThat(page.body()).contains(FakeInternet.PAGE);
        var execution = node.node.pool().running(program).orElseThrow();
        String address = node.get(program, "/address").body();
        String gateway = node.get(program, "/gateway").body();
        String mac = node.get(program, "/mac").body();
        // Every copy is named as aleph names a program's VM: the base32 label of its item hash.
        assertThat(node.get(program, "/hostname").body()).as("the program's hostname, in a restored copy too")
                .isEqualTo(dev.kiln.core.hash.ProgramHostname.label(program));
        assertThat(address).startsWith("172.16.");
        // One /30 per VM: the gateway (the host side of this VM's TAP) is .1, the guest .2.
        assertThat(InetAddress.getByName(gateway).getAddress()[3] + 1).isEqualTo(InetAddress.getByName(address).getAddress()[3]);
        String cmdline = Files.readString(Path.of("/proc", Long.toString(execution.view().pid()), "cmdline"), StandardCharsets.UTF_8);
        Matcher given = MAC.matcher(cmdline);
        assertThat(given.find()).as("the VM's QEMU has a NIC: " + cmdline).isTrue();
        assertThat(mac).as("the guest's MAC is its own QEMU's").isEqualTo(given.group(1));
        assertThat(nodeNs.run("ip", "neigh", "show", address).stdout()).as("the host saw that MAC from that address")
                .contains(given.group(1));
        String seen = node.get(program, "/whoami?host=" + FakeInternet.SERVER6 + "&port=" + FakeInternet.WHOAMI_PORT).body();
        assertThat(seen).as("IPv6 to the internet").startsWith("internet6 ");
        assertThat(InetAddress.getByName(seen.substring("internet6 ".length()))).isEqualTo(InetAddress.getByName(ipv6));
        return new Copy(execution.startKind(), address, mac);
    }

    private static long snapshots(TestNode node) throws Exception {
        Path root = node.home.dir("snapshots");
        if (!Files.isDirectory(root)) return 0;
        try (var dirs = Files.list(root)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("manifest.json"))).count();
        }
    }
}
