package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.network.FakeInternet;
import dev.kiln.network.HostCommands;
import dev.kiln.network.LinkCreator;
import dev.kiln.network.NetnsLab;
import dev.kiln.network.NetworkSettings;
import dev.kiln.network.NodeNetwork;
import dev.kiln.network.PublishedPort;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.pool.StartKind;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.node.testing.NamespacedQemu;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.store.KilnHome;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent program with the internet and a forwarded port survives a node restart inside
 * test namespaces (real QEMU, one boot): the node closes, the QEMU, its TAP, its rules and its
 * forward stay (the forward answers while no node runs); the next node's network start keeps
 * them from the records, the node adopts the same VMM, and the program still reaches the
 * internet and is reached through the same host port; stopped, nothing of it is left.
 */
class NetworkedRestartTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int LISTENER_PORT = 9000;

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @TempDir
    Path dir;

    final AtomicReference<TestNode> node = new AtomicReference<>();

    @Test
    void theAdoptedVmKeepsItsNetworkAndItsForwardedPort() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands nodeNs = lab.in(internet.node);
        HostCommands internetNs = lab.in(internet.internet);
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of(FakeInternet.SERVER));
        Path home = dir.resolve("home");
        try {
            TestNode first = startNode(home, NodeNetwork.start(settings, nodeNs), lab, internet);
            Path app = Path.of(NetworkedRestartTest.class.getResource("/dev/kiln/node/apps/netcheck").toURI());
            ItemHash program = first.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app", CodeInterface.ASGI,
                    first.runtime, "test", Resources.of(1, 128, 30), Map.of(), "online", true, true)).message();
            first.nodeRecords.ports().publish(program, List.of(PublishedPort.tcp(LISTENER_PORT)));
            var allocated = first.operator("POST", "/control/allocations",
                    "{\"persistent_vms\": [\"" + program.value() + "\"], \"instances\": []}");
            assertThat(allocated.statusCode()).as(allocated.body()).isEqualTo(200);
            Execution booted = serving(program);
            long pid = booted.vm().pid();
            String tap = booted.vm().spec().nic().tapName();
            assertThat(fetch(program)).contains(FakeInternet.PAGE);
            int hostPort = hostPort(program);
            // 198.51.100.1: the node's uplink address in FakeInternet
            String hello = "import socket; s = socket.create_connection(('198.51.100.1', " + hostPort
                    + "), timeout=5); print(s.recv(16).decode())";
            assertThat(internetNs.run("python3", "-c", hello).stdout().trim()).isEqualTo("hi");

            first.closeLeavingPersistent();
            node.set(null);
            Thread.sleep(1_000);
            assertThat(alive(pid)).as("the QEMU outlives its node").isTrue();
            assertThat(nodeNs.run("ip", "link", "show", "dev", tap).ok()).as("so does its TAP").isTrue();
            assertThat(internetNs.run("python3", "-c", hello).stdout().trim()).as("and its forward, with no node running")
                    .isEqualTo("hi");

            Map<String, dev.kiln.network.VmNetwork> held;
            try (NodeRecords records = NodeRecords.open(KilnHome.of(home))) {
                held = ProgramNetworks.heldBy(records.detachedVms());
            }
            assertThat(held).hasSize(1);
            TestNode second = startNode(home, NodeNetwork.start(settings, nodeNs, LinkCreator.TAP, held), lab, internet);
            Execution adopted = serving(program);
            assertThat(adopted.startKind()).isEqualTo(StartKind.ADOPT);
            assertThat(adopted.vm().pid()).as("the same VMM: not rebooted").isEqualTo(pid);
            assertThat(fetch(program)).as("it still reaches the internet").contains(FakeInternet.PAGE);
            assertThat(hostPort(program)).as("the same forwarded port, listed again").isEqualTo(hostPort);
            assertThat(internetNs.run("python3", "-c", hello).stdout().trim()).isEqualTo("hi");
            assertThat(qemusOf(home)).extracting(ProcessHandle::pid).containsExactly(pid);

            second.close();
            node.set(null);
            await().atMost(Duration.ofSeconds(30)).until(() -> qemusOf(home).isEmpty());
            assertThat(nodeNs.run("ip", "-o", "link", "show").stdout()).as("no TAP left").doesNotContain("kiln-");
            assertThat(nodeNs.run("nft", "list", "tables").stdout()).as("the node's table is gone").doesNotContain("kiln");
        } finally {
            TestNode left = node.get();
            if (left != null) left.close();
            for (ProcessHandle h : qemusOf(home)) h.destroyForcibly();
        }
    }

    private TestNode startNode(Path home, NodeNetwork network, NetnsLab lab, FakeInternet internet) throws Exception {
        ProgramNetworks networks = ProgramNetworks.over(network, p -> node.get().nodeRecords.ports().of(p));
        TestNode n = TestNode.start(home, NamespacedQemu.launcher(lab, internet.node), QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c, List.of(), networks);
        node.set(n);
        return n;
    }

    private Execution serving(ItemHash program) {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
                .until(() -> node.get().node.pool().running(program).isPresent());
        return node.get().node.pool().running(program).orElseThrow();
    }

    private String fetch(ItemHash program) throws Exception {
        var r = node.get().get(program, "/fetch?url=http://" + FakeInternet.HOST_NAME + "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private int hostPort(ItemHash program) throws Exception {
        JsonNode about = JSON.readTree(node.get().get("/about/executions/list").body());
        for (JsonNode e : about.path("executions")) {
            if (e.path("program").asText().equals(program.value())) {
                assertThat(e.path("forwarded_ports")).as(e.toString()).hasSize(1);
                return e.path("forwarded_ports").get(0).path("host_port").asInt();
            }
        }
        throw new AssertionError("no execution of " + program + " in " + about);
    }

    static boolean alive(long p) {
        return ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The QEMU processes whose command line names this test's home. */
    static List<ProcessHandle> qemusOf(Path home) {
        String mark = home.toAbsolutePath().normalize().toString();
        return ProcessHandle.allProcesses().filter(h -> {
            try {
                String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8);
                return cmd.contains("qemu-system") && cmd.contains(mark);
            } catch (IOException e) {
                return false;
            }
        }).toList();
    }
}
