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
import dev.kiln.network.NodeNetwork;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.NamespacedQemu;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest's half of bench/network: a 100 MB HTTP download from the fake internet by a guest
 * (through its TAP and the node's NAT) against one by a process in the node's namespace, and the
 * node's cold start of the same program with and without a NIC. Not in the suite (no *Test name):
 * {@code mvn -pl node -am verify -Dtest=NetworkBenchmark -Dsurefire.failIfNoSpecifiedTests=false -DskipITs},
 * as root; the figures are printed and go to docs/performance.md.
 */
class NetworkBenchmark {
    static final int MB100 = 100_000_000;
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @TempDir
    Path dir;

    @Test
    void downloadAndColdStart() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands nodeNs = lab.in(internet.node);
        try (OutputStream out = Files.newOutputStream(lab.scratch().resolve("site").resolve("big.bin"))) {
            byte[] block = new byte[1 << 20];
            for (int written = 0; written < MB100; written += block.length) out.write(block, 0, Math.min(block.length, MB100 - written));
        }
        QemuLauncher launcher = NamespacedQemu.launcher(lab, internet.node);
        ProgramNetworks networks = ProgramNetworks.over(NodeNetwork.start(
                NetworkSettings.defaults().withDns(List.of(FakeInternet.SERVER)), nodeNs));
        Path app = Path.of(NetworkBenchmark.class.getResource("/dev/kiln/node/apps/netcheck").toURI());
        String url = "http://" + FakeInternet.HOST_NAME + "/big.bin";
        try (TestNode node = TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(),
                QemuImages.kernel(), c -> c.withIdleTimeout(Duration.ofSeconds(1)), List.of(), networks)) {
            PublishedProgram online = node.publisher.publish(new ProgramSpec(app, Encoding.ZIP, "main:app",
                    CodeInterface.ASGI, node.runtime, "test", Resources.of(1, 256, 120), Map.of(), "online", true));
            PublishedProgram offline = node.publish(app, Encoding.ZIP, "main:app", CodeInterface.ASGI,
                    Resources.of(1, 256, 120), "offline");
            String[] guest = node.get(online.message(), "/download?url=" + url).body().split(" ");
            assertThat(Long.parseLong(guest[0])).isEqualTo(MB100);
            double guestMBs = MB100 / 1e6 / Double.parseDouble(guest[1]);
            String speed = nodeNs.run("curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}",
                    "http://" + FakeInternet.SERVER + "/big.bin").orThrow().stdout().strip();
            double nodeMBs = Double.parseDouble(speed) / 1e6;
            System.out.printf("100 MB download: guest %.1f MB/s, node namespace %.1f MB/s, ratio %.2f%n",
                    guestMBs, nodeMBs, guestMBs / nodeMBs);
            double withNic = 0, without = 0;
            int rounds = 3;
            for (int i = 0; i < rounds; i++) {
                withNic += coldStart(node, online);
                without += coldStart(node, offline);
            }
            System.out.printf("cold start (mean of %d): with NIC %.2f s, without %.2f s, ratio %.2f%n",
                    rounds, withNic / rounds, without / rounds, withNic / without);
        }
    }

    /** One cold start's boot_seconds as /about reports it, after the previous VM's idle stop. */
    private static double coldStart(TestNode node, PublishedProgram p) throws Exception {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> node.node.pool().running(p.message()).isEmpty());
        assertThat(node.get(p.message(), "/interfaces").statusCode()).isEqualTo(200);
        JsonNode list = JSON.readTree(node.get("/about/executions/list").body()).path("executions");
        for (JsonNode e : list) {
            if (e.path("program").asText().equals(p.message().value())) return e.path("boot_seconds").asDouble();
        }
        throw new AssertionError("no execution of " + p.message() + " in " + list);
    }
}
