package dev.kiln.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** With a prefix routed to the node, VMs get their hash-derived IPv6 address under the same rules as IPv4. */
class Ipv6IsolationTest {

    private static final String HASH_A = "8920215b2e961a4d4c59a8ceb2803af53f91530ff53d6704273ab4d380bc6446";
    private static final String HASH_B = "b7a1c3d2e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f";

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();
    private FakeInternet internet;
    private VethStandIn standIn;
    private NodeNetwork network;

    @BeforeEach
    void topology() throws Exception {
        internet = new FakeInternet(lab);
        standIn = new VethStandIn(lab);
        network = NodeNetwork.start(internet.settings().withIpv6(Ipv6Prefix.parse(FakeInternet.VM_PREFIX6)),
                lab.in(internet.node), standIn);
        assertThat(network.support().describe()).contains("IPv6 2001:0db8:0001:0002:0000:0000:0000:0000/64");
    }

    @AfterEach
    void stop() {
        if (network != null) {
            network.close();
        }
    }

    @Test
    void aVmIsRoutedUnderItsOwnAddressAndReachesNothingOfTheNodeOrOtherVms() throws Exception {
        lab.spawnProbe(internet.node, "serve", "::", "7001", "node");
        VmNetwork a = network.attach("a", HASH_A, VmKind.PROGRAM, List.of());
        VmNetwork b = network.attach("b", HASH_B, VmKind.PROGRAM, List.of());
        String guestA = standIn.configureGuest(a);
        String guestB = standIn.configureGuest(b);
        lab.spawnProbe(guestB, "serve", "::", "7005", "vm-b");
        assertThat(a.ipv6().guest()).isEqualTo("2001:0db8:0001:0002:0001:8920:215b:2e92");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                lab.probe(internet.node, "connect", FakeInternet.NODE_UPLINK6, "7001", "2").ok()
                        && lab.probe(internet.node, "connect", b.ipv6().guest(), "7005", "2").ok());

        CommandResult whoami = lab.probe(guestA, "connect", FakeInternet.SERVER6, String.valueOf(FakeInternet.WHOAMI_PORT), "5");
        assertThat(whoami.stderr()).isEmpty();
        // no NAT on IPv6: the internet sees the VM's own stable address
        assertThat(whoami.stdout()).isEqualTo("internet6 2001:db8:1:2:1:8920:215b:2e92");

        assertBlocked(guestA, FakeInternet.NODE_UPLINK6, 7001);
        assertBlocked(guestA, a.ipv6().gateway(), 7001);
        assertBlocked(guestA, b.ipv6().guest(), 7005);
        // nothing from outside reaches a VM unless it is published
        assertBlocked(internet.internet, b.ipv6().guest(), 7005);
    }

    @Test
    void spoofedIpv6SourcesAreDroppedAndPublishedPortsAreOpen() throws Exception {
        VmNetwork a = network.attach("a", HASH_A, VmKind.PROGRAM, List.of(PublishedPort.tcp(8000)));
        VmNetwork b = network.attach("b", HASH_B, VmKind.PROGRAM, List.of());
        String guestA = standIn.configureGuest(a);
        lab.spawnProbe(guestA, "serve", "::", "8000", "vm-a");
        lab.in(guestA).run("ip", "-6", "addr", "add", b.ipv6().guest() + "/128", "dev", "eth0", "nodad").orThrow();
        String port = String.valueOf(FakeInternet.UDP_SINK_PORT);
        // sources are explicit: with two addresses on eth0 the kernel may pick either

        lab.probe(guestA, "udp-send", FakeInternet.SERVER6, port, "genuine6-1", a.ipv6().guest()).orThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(internet.udpSink).contains("genuine6-1"));
        lab.probe(guestA, "udp-send", FakeInternet.SERVER6, port, "spoofed6", b.ipv6().guest()).orThrow();
        lab.probe(guestA, "udp-send", FakeInternet.SERVER6, port, "genuine6-2", a.ipv6().guest()).orThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(internet.udpSink).contains("genuine6-2"));
        assertThat(Files.readString(internet.udpSink)).doesNotContain("spoofed6");

        await().atMost(Duration.ofSeconds(10)).until(() ->
                lab.probe(internet.internet, "connect", a.ipv6().guest(), "8000", "2").ok());
        assertThat(lab.probe(internet.internet, "connect", a.ipv6().guest(), "8000", "2").stdout())
                .isEqualTo("vm-a " + FakeInternet.INTERNET_SIDE6);
        network.detach("a");
        assertThat(lab.in(internet.node).run("nft", "list", "set", "inet", "kiln", "open6").orThrow().stdout())
                .doesNotContain("8000");
    }

    private void assertBlocked(String from, String host, int port) {
        CommandResult r = lab.probe(from, "connect", host, String.valueOf(port), "1.5");
        assertThat(r.ok()).as("[%s]:%d must be unreachable from %s", host, port, from).isFalse();
        assertThat(r.stderr()).as("[%s]:%d must be dropped, not refused", host, port).contains("timed out");
    }
}
