package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent program through the real {@code ./kiln node}: the node process is killed with
 * SIGKILL and its program's QEMU runs on; the next node adopts it and the program's in-memory
 * counter continues in the same kernel boot, with one QEMU throughout; stopped with SIGTERM,
 * the node leaves the persistent VM running too (the test then ends it).
 */
class NodeRestartIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aKilledNodesPersistentVmIsAdoptedByTheNextNode() throws Exception {
        Path home = NodeHomes.create(dir.resolve("home"));
        Path app = Path.of(NodeRestartIT.class.getResource("counter").toURI());
        Launcher.Result created = new Launcher(home).run("program", "create", app.toString(), "--entrypoint", "main:app",
                "--persistent", "--name", "counter");
        assertThat(created.exit()).as(created.toString()).isZero();
        Matcher m = Pattern.compile("url:\\s+http://127\\.0\\.0\\.1:\\d+(/vm/\\S+)").matcher(created.out());
        assertThat(m.find()).as(created.out()).isTrue();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port + m.group(1);
        try {
            Process first = startNode(home, port, "first");
            // The operator allocates it (recorded: the second node converges to the same allocation).
            String hash = m.group(1).replaceAll("^/vm/|/$", "");
            Launcher.Result allocated = new Launcher(home).run("allocation", "add", hash, "--node-url",
                    "http://127.0.0.1:" + port);
            assertThat(allocated.exit()).as(allocated.toString()).isZero();
            JsonNode one = count(url, Duration.ofMinutes(4));
            JsonNode two = count(url, Duration.ofMinutes(1));
            assertThat(two.path("count").asInt()).isEqualTo(one.path("count").asInt() + 1);
            List<Long> qemus = NodeCommandIT.qemusUnder(home);
            assertThat(qemus).hasSize(1);

            first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs
            Thread.sleep(2_000);
            assertThat(NodeCommandIT.qemusUnder(home)).as("the VM outlives its killed node").isEqualTo(qemus);

            Process second = startNode(home, port, "second");
            JsonNode three = count(url, Duration.ofMinutes(1));
            assertThat(three.path("count").asInt()).as("the same program's memory").isEqualTo(two.path("count").asInt() + 1);
            assertThat(three.path("boot_id").asText()).as("the same kernel boot").isEqualTo(two.path("boot_id").asText());
            assertThat(NodeCommandIT.qemusUnder(home)).as("still exactly one QEMU").isEqualTo(qemus);

            second.destroy(); // SIGTERM, as Ctrl-C
            assertThat(second.waitFor(60, TimeUnit.SECONDS)).as("the node stops on SIGTERM").isTrue();
            assertThat(Files.readString(dir.resolve("second.out"))).contains("1 persistent VM(s) left running");
            assertThat(NodeCommandIT.qemusUnder(home)).as("left running by a stopped node too").isEqualTo(qemus);
            assertThat(Files.readString(dir.resolve("second.err"))).doesNotContain("\tat ").doesNotContain("Exception in thread");
        } finally {
            for (long pid : NodeCommandIT.qemusUnder(home)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private Process startNode(Path home, int port, String name) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Launcher.repo().resolve("kiln").toString(), "node", "--port",
                Integer.toString(port), "--quiet", "--no-sample");
        pb.environment().put("KILN_HOME", home.toString());
        pb.environment().put("KILN_NO_BUILD", "1");
        pb.environment().remove("KILN_REMOTE");
        Path out = dir.resolve(name + ".out");
        pb.redirectOutput(out.toFile()).redirectError(dir.resolve(name + ".err").toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (true) {
            String text = Files.exists(out) ? Files.readString(out) : "";
            if (text.contains("Press Ctrl-C")) return p;
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the node did not start:\n" + text + Files.readString(dir.resolve(name + ".err")));
            }
            Thread.sleep(200);
        }
    }

    /** The counter's answer, retried while the node still starts the program (503/502 until it serves). */
    private static JsonNode count(String url, Duration within) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) return JSON.readTree(r.body());
            if (System.nanoTime() > deadline) throw new AssertionError(r.statusCode() + " " + r.body());
            Thread.sleep(500);
        }
    }
}
