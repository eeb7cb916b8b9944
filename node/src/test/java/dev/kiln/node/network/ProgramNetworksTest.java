package dev.kiln.node.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Environment;
import dev.kiln.network.HostCommands;
import dev.kiln.network.Ipv4Address;
import dev.kiln.network.NetnsLab;
import dev.kiln.network.NetworkSettings;
import dev.kiln.network.NetworkSupport;
import dev.kiln.network.NodeNetwork;
import dev.kiln.node.error.NodeException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the pool gets from the node's networking, against the real kernel in a namespace the test
 * makes (and NetnsLab removes): a TAP and the guest's configuration for an internet program,
 * nothing for the others, and nothing left once detached and closed.
 */
class ProgramNetworksTest {
    static final ItemHash PROGRAM = ItemHash.parse("ab".repeat(32));
    static final Environment ONLINE = new Environment(false, true, false, false, null, null, Map.of());

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @Test
    void anInternetProgramGetsItsOwnTapAndGuestConfigurationAndLosesThemWhenDetached() throws Exception {
        HostCommands node = lab.in(lab.add("node"));
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of(Ipv4Address.parse("203.0.113.53")));
        String tap;
        try (ProgramNetworks networks = ProgramNetworks.over(NodeNetwork.start(settings, node))) {
            assertThat(networks.support()).as(networks.describe()).isInstanceOf(NetworkSupport.Supported.class);
            assertThat(networks.describe()).contains("IPv4 only");

            ProgramNetworks.Attached a = networks.attach(PROGRAM, ONLINE, "exec-1").orElseThrow();
            tap = a.nic().tapName();
            assertThat(tap).startsWith("kiln-");
            assertThat(a.guest().interfaceName()).isEqualTo("eth0");
            assertThat(a.guest().address()).matches("172\\.16\\.\\d+\\.\\d+/30");
            assertThat(a.guest().gateway()).startsWith("172.16.");
            assertThat(a.guest().dns()).containsExactly("203.0.113.53");
            assertThat(a.hostname()).isEqualTo("exec-1");
            assertThat(node.run("ip", "link", "show", "dev", tap).ok()).as("the TAP exists before the VMM starts").isTrue();

            assertThat(networks.attach(PROGRAM, Environment.EMPTY, "exec-2")).as("no internet, no NIC").isEmpty();
            assertThat(networks.attach(PROGRAM, null, "exec-3")).isEmpty();

            networks.detach("exec-1");
            assertThat(node.run("ip", "link", "show", "dev", tap).ok()).as("detached: the TAP is gone").isFalse();
            networks.detach("exec-1");
            networks.attach(PROGRAM, ONLINE, "exec-4").orElseThrow();
        }
        assertThat(node.run("nft", "list", "tables").stdout()).as("closed: the node's table is gone").doesNotContain("kiln");
        assertThat(node.run("ip", "-o", "link", "show").stdout()).doesNotContain("kiln-");
    }

    @Test
    void aNodeWithoutNetworkingRefusesAnInternetProgramNamingTheFieldAndTheReason() throws Exception {
        try (ProgramNetworks networks = ProgramNetworks.disabled("the node was started without --network")) {
            assertThat(networks.attach(PROGRAM, Environment.EMPTY, "exec-1")).isEmpty();
            assertThatThrownBy(() -> networks.attach(PROGRAM, ONLINE, "exec-2"))
                    .isInstanceOf(NodeException.class)
                    .hasMessageContaining("environment.internet").hasMessageContaining("without --network");
            assertThat(networks.forwards("exec-2")).isEmpty();
        }
    }
}
