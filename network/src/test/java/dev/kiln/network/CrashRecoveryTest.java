package dev.kiln.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A node killed with SIGKILL leaves its table and TAPs; the next start removes them, and only them. */
class CrashRecoveryTest {

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @Test
    void theNextStartSweepsWhatAKilledNodeLeftAndTouchesNothingElse() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands node = lab.in(internet.node);
        // somebody else's device with the node's prefix, and somebody else's table
        node.run("ip", "link", "add", "kiln-foreign", "type", "veth", "peer", "name", "foreign-peer").orThrow();
        node.run(List.of("nft", "-f", "-"), """
                table inet other {
                  chain keep { type filter hook forward priority 10; policy accept; counter; }
                }
                """).orThrow();

        Process crashing = lab.spawn(internet.node, javaBinary(), "-cp", System.getProperty("java.class.path"),
                CrashingNode.class.getName(), FakeInternet.SERVER.toString());
        Path log = lab.scratch().resolve("process-" + (countProcessLogs() - 1) + ".log");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("ready") || !crashing.isAlive());
        assertThat(Files.readString(log)).startsWith("ready kiln-0");
        crashing.destroyForcibly().waitFor();

        assertThat(node.run("nft", "list", "table", "inet", "kiln").ok()).as("the killed node's table stays").isTrue();
        assertThat(node.run("ip", "-d", "link", "show", "dev", "kiln-0").orThrow().stdout())
                .as("the killed node's real TAP stays").contains("tun type tap");

        VethStandIn standIn = new VethStandIn(lab);
        try (NodeNetwork network = NodeNetwork.start(internet.settings(), node, standIn)) {
            assertThat(network.support()).isInstanceOf(NetworkSupport.Supported.class);
            assertThat(node.run("ip", "link", "show", "dev", "kiln-0").ok()).as("stale TAP removed").isFalse();
            String table = node.run("nft", "list", "table", "inet", "kiln").orThrow().stdout();
            assertThat(table).doesNotContain("172.16.0.2").doesNotContain("24000");
            assertThat(node.run("ip", "link", "show", "dev", "kiln-foreign").ok()).isTrue();
            assertThat(node.run("nft", "list", "table", "inet", "other").ok()).isTrue();

            VmNetwork vm = network.attach("again", "ab".repeat(32), VmKind.PROGRAM, List.of());
            String guest = standIn.configureGuest(vm);
            assertThat(lab.probe(guest, "fetch", "http://" + FakeInternet.HOST_NAME + "/", "5").stdout())
                    .isEqualTo(FakeInternet.PAGE);
        }

        assertThat(node.run("nft", "list", "table", "inet", "kiln").ok()).as("table removed at exit").isFalse();
        assertThat(node.run("ip", "link", "show", "dev", "kiln-0").ok()).as("interfaces removed at exit").isFalse();
        assertThat(node.run("ip", "link", "show", "dev", "kiln-foreign").ok()).isTrue();
        assertThat(node.run("nft", "list", "table", "inet", "other").ok()).isTrue();
    }

    private long countProcessLogs() throws IOException {
        try (var files = Files.list(lab.scratch())) {
            return files.filter(p -> p.getFileName().toString().startsWith("process-")).count();
        }
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
