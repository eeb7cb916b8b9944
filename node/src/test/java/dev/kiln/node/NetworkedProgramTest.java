package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.network.FakeInternet;
import dev.kiln.network.HostCommands;
import dev.kiln.network.NetnsLab;
import dev.kiln.network.NetworkSettings;
import dev.kiln.network.Ipv6Prefix;
import dev.kiln.network.NodeNetwork;
import dev.kiln.network.VmIpv6;
import dev.kiln.network.VmKind;
import dev.kiln.network.PublishedPort;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.NamespacedQemu;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.net.InetAddress;
import java.net.http.HttpResponse;
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
 * Real QEMU guests networked by the node, all inside namespaces the test makes (NetnsLab removes
 * them, with every TAP and table in them, even on failure): the node's networking runs in the
 * "node" namespace whose uplink leads into a fake internet, and the VMM is started there too,
 * through a wrapper given to the launcher as its QEMU binary. The node's HTTP side stays in the
 * test JVM's namespace, on loopback.
 */
class NetworkedProgramTest {
    static final int NODE_SERVICE_PORT = 8765;
    /** The netcheck app's own listener: it answers "hi". */
    static final int LISTENER_PORT = 9000;

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @TempDir
    Path dir;

    @Test
    void anInternetProgramFetchesByNameCannotReachTheNodeAndAnOfflineOneHasOnlyLoopback() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands nodeNs = lab.in(internet.node);
        lab.spawn(internet.node, "python3", "-m", "http.server", "--bind", "0.0.0.0", Integer.toString(NODE_SERVICE_PORT));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() ->
                nodeNs.run("ss", "-tln").stdout().contains(":" + NODE_SERVICE_PORT));
        QemuLauncher launcher = NamespacedQemu.launcher(lab, internet.node);
        Ipv6Prefix prefix = Ipv6Prefix.parse(FakeInternet.VM_PREFIX6);
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of(FakeInternet.SERVER)).withIpv6(prefix);
        // the node's own records say which ports a program publishes, as 'kiln program create --publish-port' writes them
        AtomicReference<TestNode> started = new AtomicReference<>();
        ProgramNetworks networks = ProgramNetworks.over(NodeNetwork.start(settings, nodeNs),
                program -> started.get().nodeRecords.ports().of(program));
        assertThat(networks.describe()).contains("IPv6 from 2001:0db8:0001:0002:");
        Path app = Path.of(NetworkedProgramTest.class.getResource("/dev/kiln/node/apps/netcheck").toURI());
        try (TestNode node = TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c, List.of(), networks)) {
            started.set(node);
            PublishedProgram online = node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app",
                    CodeInterface.ASGI, node.runtime, "test", Resources.of(1, 128, 30), Map.of(), "online", true));
            node.nodeRecords.ports().publish(online.message(), List.of(PublishedPort.tcp(LISTENER_PORT)));
            PublishedProgram offline = node.publish(app, Encoding.ZIP, "main:app", CodeInterface.ASGI,
                    Resources.of(1, 128, 30), "offline");

            HttpResponse<String> page = node.get(online.message(), "/fetch?url=http://" + FakeInternet.HOST_NAME + "/");
            assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
            assertThat(page.body()).contains(FakeInternet.PAGE);
            // the kernel has no IPv6-in-IPv4 tunnel (CONFIG_IPV6_SIT off), so no sit0 beside them
            assertThat(node.get(online.message(), "/interfaces").body()).isEqualTo("eth0 lo");
            assertThat(node.get("/about/executions/list").body()).contains("\"network\"").contains("IPv6 from");

            // IPv6: routed, not NATed: the internet sees the address derived from the program's hash
            String seen = node.get(online.message(), "/whoami?host=" + FakeInternet.SERVER6 + "&port="
                    + FakeInternet.WHOAMI_PORT).body();
            assertThat(seen).startsWith("internet6 ");
            assertThat(InetAddress.getByName(seen.substring("internet6 ".length())))
                    .isEqualTo(InetAddress.getByName(VmIpv6.derive(prefix, online.message().value(), VmKind.PROGRAM).guest()));

            // its published port: reached on the node's uplink address from the node's namespace and
            // from the internet side, by the host port /about reports
            JsonNode forward = forwardOf(node, online);
            assertThat(forward.path("guest_port").asInt()).isEqualTo(LISTENER_PORT);
            assertThat(forward.path("protocol").asText()).isEqualTo("tcp");
            int hostPort = forward.path("host_port").asInt();
            String hello = "import socket; s = socket.create_connection(('198.51.100.1', " + hostPort
                    + "), timeout=5); print(s.recv(16).decode())";
            assertThat(nodeNs.run("python3", "-c", hello).stdout().trim()).as("from the node's namespace").isEqualTo("hi");
            HostCommands internetNs = lab.in(internet.internet);
            assertThat(internetNs.run("python3", "-c", hello).stdout().trim()).as("from the internet").isEqualTo("hi");

            // the node's own addresses: dropped (a timeout; a refusal would mean the packet got through),
            // while the node itself reaches the service
            assertThat(nodeNs.run("python3", "-c", "import socket; socket.create_connection(('198.51.100.1', "
                    + NODE_SERVICE_PORT + "), timeout=3)").ok()).as("sanity: the service is up in the node namespace").isTrue();
            assertThat(node.get(online.message(), "/connect?host=198.51.100.1&port=" + NODE_SERVICE_PORT).body())
                    .startsWith("refused").contains("timed out");

            String gateway = node.get(online.message(), "/gateway").body();
            assertThat(gateway).startsWith("172.16.");
            assertThat(node.get(online.message(), "/connect?host=" + gateway + "&port=" + NODE_SERVICE_PORT).body())
                    .as("the node's address on the VM's own link").startsWith("refused").contains("timed out");

            // another VM, listening on its own port 9000: reachable inside itself, not from the first
            PublishedProgram other = node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app",
                    CodeInterface.ASGI, node.runtime, "test", Resources.of(1, 128, 30), Map.of(), "other", true));
            String otherAddress = node.get(other.message(), "/address").body();
            assertThat(otherAddress).startsWith("172.16.").isNotEqualTo(node.get(online.message(), "/address").body());
            assertThat(node.get(other.message(), "/connect?host=127.0.0.1&port=9000").body()).isEqualTo("connected");
            assertThat(node.get(online.message(), "/connect?host=" + otherAddress + "&port=9000").body())
                    .as("VM to VM").startsWith("refused").contains("timed out");
            String other6 = VmIpv6.derive(prefix, other.message().value(), VmKind.PROGRAM).guest();
            assertThat(node.get(online.message(), "/connect?host=" + other6 + "&port=9000").body())
                    .as("VM to VM over IPv6").startsWith("refused").contains("timed out");
            assertThat(node.get(other.message(), "/connect?host=198.51.100.1&port=" + hostPort).body())
                    .as("VM to VM through the other's forwarded port").startsWith("refused");

            assertThat(node.get(offline.message(), "/interfaces").body()).as("no NIC: loopback only").isEqualTo("lo");

            // the forward goes with the VM
            assertThat(node.node.pool().stop(online.message(), "test")).isTrue();
            org.awaitility.Awaitility.await("the host port closed after the VM stopped").atMost(Duration.ofSeconds(60))
                    .until(() -> !internetNs.run("python3", "-c", hello).ok());
            assertThat(node.get("/about/executions/list").body()).doesNotContain("\"host_port\"");
        }
        assertThat(nodeNs.run("ip", "-o", "link", "show").stdout()).as("no TAP left").doesNotContain("kiln-");
        assertThat(nodeNs.run("nft", "list", "tables").stdout()).as("the node's table is gone").doesNotContain("kiln");
    }

    private static JsonNode forwardOf(TestNode node, PublishedProgram program) throws Exception {
        JsonNode about = new ObjectMapper().readTree(node.get("/about/executions/list").body());
        for (JsonNode e : about.path("executions")) {
            if (e.path("program").asText().equals(program.message().value())) {
                assertThat(e.path("forwarded_ports")).as(e.toString()).hasSize(1);
                return e.path("forwarded_ports").get(0);
            }
        }
        throw new AssertionError("no execution of " + program.message() + " in " + about);
    }
}
