package dev.kiln.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's networking in a namespace of its own, with "VMs" that are veth stand-ins for QEMU
 * TAPs (see {@link VethStandIn}). A blocked connection must time out, not be refused: a refusal
 * would mean the packet got through and found no listener, which proves nothing about the rules.
 */
class VmIsolationTest {

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
        network = NodeNetwork.start(internet.settings(), lab.in(internet.node), standIn);
        assertThat(network.support()).isInstanceOf(NetworkSupport.Supported.class);
    }

    @AfterEach
    void stop() {
        if (network != null) {
            network.close();
        }
    }

    @Test
    void aVmFetchesAPageByNameThroughNat() throws Exception {
        VmNetwork vm = network.attach("a", HASH_A, VmKind.PROGRAM, List.of());
        String guest = standIn.configureGuest(vm);

        CommandResult page = lab.probe(guest, "fetch", "http://" + FakeInternet.HOST_NAME + "/", "5");
        CommandResult whoami = lab.probe(guest, "connect", FakeInternet.SERVER.toString(),
                String.valueOf(FakeInternet.WHOAMI_PORT), "5");

        assertThat(page.stderr()).isEmpty();
        assertThat(page.stdout()).isEqualTo(FakeInternet.PAGE);
        // the internet sees the node's uplink address, not the guest's private one
        assertThat(whoami.stdout()).isEqualTo("internet " + FakeInternet.NODE_UPLINK);
        assertThat(vm.guestAddress()).isEqualTo("172.16.0.2/30");
        assertThat(vm.guestGateway()).isEqualTo("172.16.0.1");
        assertThat(vm.dnsServers()).containsExactly(FakeInternet.SERVER.toString());
        assertThat(vm.qemuArguments()).containsSequence("-netdev", "tap,id=net0,ifname=kiln-0,script=no,downscript=no");
    }

    @Test
    void aVmReachesNeitherTheNodeNorAnotherVmNorMetadata() throws Exception {
        lab.spawnProbe(internet.node, "serve", "0.0.0.0", "7001", "node");
        lab.spawnProbe(internet.node, "serve", "127.0.0.1", "7002", "node-loopback");
        VmNetwork a = network.attach("a", HASH_A, VmKind.PROGRAM, List.of());
        VmNetwork b = network.attach("b", HASH_B, VmKind.PROGRAM, List.of());
        String guestA = standIn.configureGuest(a);
        String guestB = standIn.configureGuest(b);
        lab.spawnProbe(guestB, "serve", "0.0.0.0", "7005", "vm-b");
        // positive controls: each listener answers those it is meant for
        await().atMost(Duration.ofSeconds(10)).until(() ->
                lab.probe(internet.node, "connect", FakeInternet.NODE_UPLINK.toString(), "7001", "2").ok()
                        && lab.probe(internet.node, "connect", "127.0.0.1", "7002", "2").ok()
                        && lab.probe(internet.node, "connect", b.subnet().guest().toString(), "7005", "2").ok()
                        && lab.probe(internet.node, "connect", FakeInternet.METADATA.toString(), "80", "2").ok());
        assertThat(lab.probe(guestA, "connect", FakeInternet.SERVER.toString(), String.valueOf(FakeInternet.WHOAMI_PORT), "3").ok())
                .as("the guest has internet, so what follows is the rules").isTrue();

        assertBlocked(guestA, FakeInternet.NODE_UPLINK.toString(), 7001);
        assertBlocked(guestA, a.subnet().gateway().toString(), 7001);
        assertBlocked(guestA, a.subnet().gateway().toString(), 7002);
        assertBlocked(guestA, b.subnet().guest().toString(), 7005);
        assertBlocked(guestA, b.subnet().gateway().toString(), 7001);
        assertBlocked(guestA, FakeInternet.METADATA.toString(), 80);
        // 127.0.0.1 in a guest is the guest's own loopback: the host's cannot even be named
        assertThat(lab.probe(guestA, "connect", "127.0.0.1", "7002", "2").stderr()).contains("refused");
    }

    @Test
    void spoofedSourcesAreDropped() throws Exception {
        VmNetwork a = network.attach("a", HASH_A, VmKind.PROGRAM, List.of());
        VmNetwork b = network.attach("b", HASH_B, VmKind.PROGRAM, List.of());
        String guestA = standIn.configureGuest(a);
        String other = b.subnet().guest().toString();
        lab.in(guestA).run("ip", "addr", "add", other + "/32", "dev", "eth0").orThrow();
        lab.in(guestA).run("ip", "addr", "add", "10.9.9.9/32", "dev", "eth0").orThrow();
        String server = FakeInternet.SERVER.toString();
        String port = String.valueOf(FakeInternet.UDP_SINK_PORT);

        lab.probe(guestA, "udp-send", server, port, "genuine-1", a.subnet().guest().toString()).orThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(internet.udpSink).contains("genuine-1"));
        lab.probe(guestA, "udp-send", server, port, "spoofed-other-vm", other).orThrow();
        lab.probe(guestA, "udp-send", server, port, "spoofed-outside", "10.9.9.9").orThrow();
        lab.probe(guestA, "udp-send", server, port, "genuine-2", a.subnet().guest().toString()).orThrow();
        // same path, sent after the spoofed ones: once it is in, they would have been too
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(internet.udpSink).contains("genuine-2"));

        assertThat(Files.readString(internet.udpSink)).doesNotContain("spoofed");
    }

    @Test
    void aForwardedPortReachesTheVmUntilItIsDetached() throws Exception {
        VmNetwork vm = network.attach("a", HASH_A, VmKind.PROGRAM, List.of(PublishedPort.tcp(8000)));
        VmNetwork other = network.attach("b", HASH_B, VmKind.PROGRAM, List.of());
        String guest = standIn.configureGuest(vm);
        String otherGuest = standIn.configureGuest(other);
        lab.spawnProbe(guest, "serve", "0.0.0.0", "8000", "vm-a");
        assertThat(vm.forwards()).containsExactly(new PortForward(PortForward.Protocol.TCP, 24000, 8000));
        String uplink = FakeInternet.NODE_UPLINK.toString();

        await().atMost(Duration.ofSeconds(10)).until(() -> lab.probe(internet.node, "connect", uplink, "24000", "2").ok());
        assertThat(lab.probe(internet.node, "connect", uplink, "24000", "3").stdout()).startsWith("vm-a ");
        assertThat(lab.probe(internet.internet, "connect", uplink, "24000", "3").stdout())
                .isEqualTo("vm-a " + FakeInternet.INTERNET_SIDE);
        // another VM cannot use the forward to reach this one
        assertBlocked(otherGuest, uplink, 24000);

        network.detach("a");

        assertThat(lab.probe(internet.node, "connect", uplink, "24000", "2").ok()).isFalse();
        assertThat(lab.probe(internet.internet, "connect", uplink, "24000", "2").ok()).isFalse();
        assertThat(lab.in(internet.node).run("nft", "list", "map", "inet", "kiln", "forward4").orThrow().stdout())
                .doesNotContain("24000");
        assertThat(lab.in(internet.node).run("ip", "link", "show", "dev", vm.interfaceName()).ok()).isFalse();
    }

    @Test
    void vmsAttachAndDetachConcurrentlyWithoutSharingAnything() throws Exception {
        List<String> keys = IntStream.range(0, 6).mapToObj(i -> "vm" + i).toList();
        List<VmNetwork> vms;
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = keys.stream().map(k -> threads.submit(() ->
                    network.attach(k, "%064x".formatted(k.hashCode()), VmKind.PROGRAM, List.of(PublishedPort.tcp(80))))).toList();
            vms = new ArrayList<>();
            for (var f : futures) {
                vms.add(f.get());
            }
        }
        assertThat(vms).extracting(VmNetwork::interfaceName).doesNotHaveDuplicates().hasSize(6);
        assertThat(vms).extracting(v -> v.forwards().getFirst().hostPort()).doesNotHaveDuplicates();
        HostCommands node = lab.in(internet.node);
        String table = node.run("nft", "list", "table", "inet", "kiln").orThrow().stdout();
        for (VmNetwork vm : vms) {
            assertThat(table).contains("\"" + vm.interfaceName() + "\" . " + vm.subnet().guest());
        }

        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            keys.forEach(k -> threads.submit(() -> network.detach(k)));
        }

        assertThat(network.attached()).isEmpty();
        assertThat(node.run("ip", "-br", "link", "show").orThrow().stdout()).doesNotContain("kiln-");
        assertThat(node.run("nft", "list", "set", "inet", "kiln", "vm_addr4").orThrow().stdout()).doesNotContain("172.16");
    }

    private void assertBlocked(String guest, String host, int port) {
        CommandResult r = lab.probe(guest, "connect", host, String.valueOf(port), "1.5");
        assertThat(r.ok()).as("%s:%d must be unreachable from the guest", host, port).isFalse();
        assertThat(r.stderr()).as("%s:%d must be dropped, not refused", host, port).contains("timed out");
    }
}
