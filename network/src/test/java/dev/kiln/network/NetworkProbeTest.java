package dev.kiln.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class NetworkProbeTest {

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @Test
    void aRangeThatOverlapsARouteOfTheNamespaceIsRefusedWithTheReason() {
        String ns = lab.add("node");
        HostCommands node = lab.in(ns);
        node.run("ip", "link", "add", "lan", "type", "veth", "peer", "name", "lan-peer").orThrow();
        node.run("ip", "addr", "add", "172.16.5.1/24", "dev", "lan").orThrow();
        node.run("ip", "link", "set", "lan", "up").orThrow();
        node.run("ip", "link", "set", "lan-peer", "up").orThrow();

        try (NodeNetwork network = NodeNetwork.start(NetworkSettings.defaults().withDns(List.of()), node)) {
            assertThat(network.support()).isInstanceOf(NetworkSupport.Unsupported.class);
            assertThat(network.support().describe()).contains("172.16.0.0/16 overlaps the route 172.16.5.0/24 (dev lan)");
            assertThatThrownBy(() -> network.attach("x", "ab".repeat(32), VmKind.PROGRAM, List.of()))
                    .isInstanceOf(NetworkUnavailableException.class).hasMessageContaining("give the node another range");
            assertThat(node.run("nft", "list", "table", "inet", "kiln").ok()).as("nothing installed").isFalse();
        }
    }

    @Test
    void anotherRangeWorksThereAndARealTapIsMadeAndRemoved() {
        String ns = lab.add("node");
        HostCommands node = lab.in(ns);
        node.run("ip", "link", "add", "lan", "type", "veth", "peer", "name", "lan-peer").orThrow();
        node.run("ip", "addr", "add", "172.16.5.1/24", "dev", "lan").orThrow();
        node.run("ip", "link", "set", "lan", "up").orThrow();
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of()).withRange(Ipv4Range.parse("10.77.0.0/24"));
        String machineForwarding = NetnsLab.run("cat", "/proc/sys/net/ipv4/ip_forward").stdout();

        try (NodeNetwork network = NodeNetwork.start(settings, node)) {
            assertThat(network.support()).isInstanceOf(NetworkSupport.Supported.class);
            VmNetwork vm = network.attach("x", "ab".repeat(32), VmKind.PROGRAM, List.of());
            String link = node.run("ip", "-d", "addr", "show", "dev", vm.interfaceName()).orThrow().stdout();
            assertThat(link).contains("tun type tap").contains("inet 10.77.0.1/30").contains("alias kiln-node:kiln");
            assertThat(vm.subnet().guestCidr()).isEqualTo("10.77.0.2/30");
            network.detach("x");
            assertThat(node.run("ip", "link", "show", "dev", vm.interfaceName()).ok()).isFalse();
        }
        assertThat(node.run("cat", "/proc/sys/net/ipv4/ip_forward").stdout().strip())
                .as("forwarding is on in the node's namespace").isEqualTo("1");
        assertThat(NetnsLab.run("cat", "/proc/sys/net/ipv4/ip_forward").stdout())
                .as("and the machine's own namespace is left as it was").isEqualTo(machineForwarding);
    }
}
