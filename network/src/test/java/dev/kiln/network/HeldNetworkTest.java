package dev.kiln.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The network of a VM that outlives its node (namespaces only, a veth standing in for the TAP):
 * left at the node's exit, it keeps its device, rules and forward; the next start given its
 * recorded text keeps them (its subnet and port not handed out again, its traffic never cut),
 * sweeps what it was not given, and removes the kept one once it is detached.
 */
class HeldNetworkTest {
    static final String HASH = "cd".repeat(32);

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @Test
    void aNetworkLeftRunningIsKeptByTheNextStartUntilItIsDetached() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands node = lab.in(internet.node);
        VethStandIn standIn = new VethStandIn(lab);
        String uplink = FakeInternet.NODE_UPLINK.toString();
        NodeNetwork first = NodeNetwork.start(internet.settings(), node, standIn);
        VmNetwork vm = first.attach("exec-1", HASH, VmKind.PROGRAM, List.of(PublishedPort.tcp(8000)));
        VmNetwork gone = first.attach("exec-2", "ef".repeat(32), VmKind.PROGRAM, List.of());
        String guest = standIn.configureGuest(vm);
        lab.spawnProbe(guest, "serve", "0.0.0.0", "8000", "held");
        await().atMost(Duration.ofSeconds(10)).until(() -> lab.probe(internet.internet, "connect", uplink, "24000", "2").ok());
        String text = HeldNetwork.format(vm);
        assertThat(HeldNetwork.parse(text, HASH)).isEqualTo(new VmNetwork(HASH, vm.interfaceName(), vm.mac(), vm.subnet(),
                vm.ipv6(), List.of(), vm.forwards()));

        first.leave("exec-1");
        first.leave("exec-2");
        first.detach("exec-2");
        first.close();
        assertThat(node.run("ip", "link", "show", "dev", vm.interfaceName()).ok()).as("left running: its device stays").isTrue();
        assertThat(node.run("ip", "link", "show", "dev", gone.interfaceName()).ok()).isFalse();
        assertThat(lab.probe(guest, "fetch", "http://" + FakeInternet.HOST_NAME + "/", "5").stdout())
                .as("no node runs, the VM still reaches the internet").isEqualTo(FakeInternet.PAGE);

        // A stray device of the node's that no record names, and a record that does not fit: both swept.
        VmNetwork stray = new VmNetwork("ab".repeat(32), "kiln-7", VmNetwork.macFor(7), new SubnetPool(internet.settings().range(),
                internet.settings().subnetPrefix()).subnet(7), null, List.of(), List.of());
        standIn.create(node, stray.interfaceName(), stray.subnet());
        node.run("ip", "link", "set", "dev", stray.interfaceName(), "alias", VmLinks.ALIAS_PREFIX + internet.settings().table()).orThrow();
        VmNetwork misfit = new VmNetwork("ab".repeat(32), "kiln-7", vm.mac(), vm.subnet(), null, List.of(), List.of());
        try (NodeNetwork second = NodeNetwork.start(internet.settings(), node, standIn,
                Map.of("exec-1", HeldNetwork.parse(text, HASH), "exec-9", misfit))) {
            assertThat(second.find("exec-1")).isPresent();
            assertThat(second.find("exec-9")).as("a record that does not fit is not kept").isEmpty();
            assertThat(node.run("ip", "link", "show", "dev", "kiln-7").ok()).as("swept").isFalse();
            assertThat(lab.probe(internet.internet, "connect", uplink, "24000", "3").stdout())
                    .as("the forward works on").isEqualTo("held " + FakeInternet.INTERNET_SIDE);
            assertThat(lab.probe(guest, "fetch", "http://" + FakeInternet.HOST_NAME + "/", "5").stdout()).isEqualTo(FakeInternet.PAGE);
            VmNetwork next = second.attach("exec-3", "ef".repeat(32), VmKind.PROGRAM, List.of(PublishedPort.tcp(8000)));
            assertThat(next.subnet().index()).as("the held subnet is not handed out again").isNotEqualTo(vm.subnet().index());
            assertThat(next.forwards().getFirst().hostPort()).isNotEqualTo(24000);
            second.detach("exec-3");

            assertThat(second.rekey("exec-1", "exec-4")).isTrue();
            assertThat(second.find("exec-1")).isEmpty();
            second.detach("exec-4");
            assertThat(node.run("ip", "link", "show", "dev", vm.interfaceName()).ok()).as("detached: removed").isFalse();
            assertThat(lab.probe(internet.internet, "connect", uplink, "24000", "2").ok()).isFalse();
        }
        assertThat(node.run("nft", "list", "table", "inet", "kiln").ok()).as("nothing left running: the table goes").isFalse();
    }
}
