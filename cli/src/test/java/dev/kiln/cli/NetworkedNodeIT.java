package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.network.FakeInternet;
import dev.kiln.network.HostCommands;
import dev.kiln.network.NetnsLab;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ip netns exec NS kiln node --network}, the way docs/network.md tells an operator to keep a
 * node off the host's own network, in namespaces this test makes (NetnsLab removes them, with every
 * TAP and table in them, even on failure); the node's uplink leads into a fake internet on
 * documentation addresses. An internet program with a published port works; the node is killed
 * with SIGKILL; the next node removes what the killed one left, and works; a stopped node leaves
 * nothing.
 */
class NetworkedNodeIT {
    static final String UPLINK = "198.51.100.1";

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @TempDir
    Path dir;

    @Test
    void aNodeInItsOwnNamespaceSurvivesSigkillWithoutLeavingDevicesOrRules() throws Exception {
        FakeInternet internet = new FakeInternet(lab);
        HostCommands nodeNs = lab.in(internet.node);
        Path home = NodeHomes.create(dir.resolve("home"));
        Path app = Path.of(NetworkedNodeIT.class.getResource("netapp").toURI());
        Launcher.Result created = new Launcher(home).run("program", "create", app.toString(), "--entrypoint", "main:app",
                "--internet", "--publish-port", "9000", "--name", "netapp");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(created.out()).contains("ports:   9000");
        Matcher m = Pattern.compile("url:\\s+http://127\\.0\\.0\\.1:\\d+(/vm/\\S+)").matcher(created.out());
        assertThat(m.find()).as(created.out()).isTrue();
        String programPath = m.group(1);

        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        Process first = startNode(internet.node, home, port);
        String page = httpIn(internet.node, base + programPath + "fetch?url=http://" + FakeInternet.HOST_NAME + "/");
        assertThat(page).isEqualTo(FakeInternet.PAGE);
        int hostPort = hostPort(internet.node, base);
        assertThat(helloFrom(lab.in(internet.internet), hostPort)).as("the published port from the internet").isEqualTo("hi");

        first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, nothing cleaned up by the node itself
        assertThat(nodeNs.run("nft", "list", "table", "inet", "kiln").ok()).as("the killed node's table stays").isTrue();

        Process second = startNode(internet.node, home, port);
        String table = nodeNs.run("nft", "list", "table", "inet", "kiln").orThrow().stdout();
        assertThat(table).as("the killed node's forward is gone").doesNotContain(Integer.toString(hostPort));
        assertThat(links(nodeNs)).as("no TAP of the killed node's VM").noneMatch(l -> l.startsWith("kiln-"));
        assertThat(httpIn(internet.node, base + programPath + "fetch?url=http://" + FakeInternet.HOST_NAME + "/"))
                .as("a new VM after the restart").isEqualTo(FakeInternet.PAGE);
        int again = hostPort(internet.node, base);
        assertThat(helloFrom(lab.in(internet.internet), again)).isEqualTo("hi");

        second.destroy(); // SIGTERM, as Ctrl-C: the node halts its VMs and removes its table and devices
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).as("the node stops on SIGTERM").isTrue();
        assertThat(nodeNs.run("nft", "list", "table", "inet", "kiln").ok()).as("table removed at exit").isFalse();
        assertThat(links(nodeNs)).as("devices removed at exit").noneMatch(l -> l.startsWith("kiln-"));
        assertThat(NodeCommandIT.qemusUnder(home)).as("no QEMU left").isEmpty();
    }

    private Process startNode(String ns, Path home, int port) throws Exception {
        Process p = lab.spawn(ns, "env", "KILN_HOME=" + home, "KILN_NO_BUILD=1", Launcher.repo().resolve("kiln").toString(),
                "node", "--port", Integer.toString(port), "--quiet", "--no-sample", "--network",
                "--dns", FakeInternet.SERVER.toString());
        Path log = newestLog();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (true) {
            String out = Files.readString(log);
            if (out.contains("Press Ctrl-C")) {
                assertThat(out).as("networking is on inside the namespace").contains("VM networking: ")
                        .contains("IPv4 only");
                return p;
            }
            if (!p.isAlive() || System.nanoTime() > deadline) throw new AssertionError("the node did not start:\n" + out);
            Thread.sleep(200);
        }
    }

    private Path newestLog() throws IOException {
        try (var files = Files.list(lab.scratch())) {
            return files.filter(f -> f.getFileName().toString().matches("process-\\d+\\.log"))
                    .max((a, b) -> Integer.compare(number(a), number(b))).orElseThrow();
        }
    }

    private static int number(Path log) {
        return Integer.parseInt(log.getFileName().toString().replaceAll("\\D", ""));
    }

    /** The body of a GET made inside the namespace (the node listens on that namespace's loopback). */
    private static String httpIn(String ns, String url) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-c",
                "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=240)"
                        + ".read().decode())", url).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(url + ": " + out).isZero();
        return out;
    }

    /** The host port /about/executions/list gives the one VM's published port 9000. */
    private static int hostPort(String ns, String base) throws Exception {
        String about = httpIn(ns, base + "/about/executions/list");
        Matcher m = Pattern.compile("\"host_port\"\\s*:\\s*(\\d+)\\s*,\\s*\"guest_port\"\\s*:\\s*9000").matcher(about);
        assertThat(m.find()).as(about).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static String helloFrom(HostCommands ns, int hostPort) {
        return ns.run("python3", "-c", "import socket; s = socket.create_connection(('" + UPLINK + "', " + hostPort
                + "), timeout=10); print(s.recv(16).decode())").orThrow().stdout().trim();
    }

    private static List<String> links(HostCommands ns) {
        return ns.run("ip", "-o", "link", "show").orThrow().stdout().lines()
                .map(l -> l.split(":\\s+")[1].split("@")[0]).toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
