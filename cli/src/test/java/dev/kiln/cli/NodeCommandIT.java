package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln node} through the real launcher, as the README's first command: it prepares (kernel
 * and runtime from the cache), listens, prints the sample's URL and a curl line; the sample
 * answers from a microVM; stopping the command halts every VM.
 */
class NodeCommandIT {
    @TempDir Path dir;

    @Test
    void kilnNodeServesTheSampleProgramAndLeavesNoQemuWhenStopped() throws Exception {
        Path home = NodeHomes.create(dir.resolve("home"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(Launcher.repo().resolve("kiln").toString(), "node", "--port",
                Integer.toString(port), "--quiet");
        pb.environment().put("KILN_HOME", home.toString());
        pb.environment().put("KILN_NO_BUILD", "1");
        pb.environment().remove("KILN_REMOTE");
        pb.redirectError(dir.resolve("stderr.txt").toFile());
        Path stdout = dir.resolve("stdout.txt");
        pb.redirectOutput(stdout.toFile());
        Process node = pb.start();
        try {
            String out = awaitOutput(stdout, "Press Ctrl-C", Duration.ofMinutes(10));
            assertThat(out).contains("[1/4] BuildKernel").contains("[4/4] DeploySample")
                    .contains("Kiln node listening on http://127.0.0.1:" + port).contains("accelerator: ");
            Matcher m = Pattern.compile("sample program: (http://\\S+)").matcher(out);
            assertThat(m.find()).as(out).isTrue();
            String sampleUrl = m.group(1);
            assertThat(out).contains("try:   curl " + sampleUrl);

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> hello = http.send(HttpRequest.newBuilder(URI.create(sampleUrl)).timeout(Duration.ofSeconds(120))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(hello.statusCode()).as(hello.body()).isEqualTo(200);
            assertThat(hello.body()).contains("Hello from Kiln");
            HttpResponse<String> check = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/status/check/fastapi")).timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(check.statusCode()).as(check.body()).isEqualTo(200);
        } finally {
            node.destroy(); // SIGTERM: the JVM's shutdown runs, as with Ctrl-C
            if (!node.waitFor(30, TimeUnit.SECONDS)) node.destroyForcibly();
        }
        String all = Files.readString(stdout);
        assertThat(all).as("exit " + node.exitValue() + stderr()).contains("Kiln node stopped; 1 VM(s) halted.");
        assertThat(qemusUnder(home)).as("no QEMU left running").isEmpty();
        assertThat(stderr()).doesNotContain("\tat ").doesNotContain("Exception in thread");
    }

    @Test
    void aPortInUseIsAOneLineError() throws Exception {
        Path home = NodeHomes.create(dir.resolve("home"));
        try (ServerSocket busy = new ServerSocket(0)) {
            Launcher.Result r = new Launcher(home).run("node", "--port", Integer.toString(busy.getLocalPort()), "--quiet",
                    "--no-sample");
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + busy.getLocalPort()).doesNotContain("\tat ");
        }
        assertThat(qemusUnder(home)).isEmpty();
    }

    /** The file's content once it contains {@code marker}. */
    private String awaitOutput(Path file, String marker, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String text = Files.exists(file) ? Files.readString(file) : "";
            if (text.contains(marker)) return text;
            if (System.nanoTime() > deadline) throw new AssertionError("no '" + marker + "' in time; output:\n" + text + stderr());
            Thread.sleep(200);
        }
    }

    private String stderr() {
        try {
            return "\n--- stderr ---\n" + Files.readString(dir.resolve("stderr.txt"));
        } catch (java.io.IOException e) {
            return "";
        }
    }

    static List<Long> qemusUnder(Path home) {
        List<Long> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(h -> {
            String cmd = h.info().commandLine().orElse("");
            if (cmd.contains("qemu-system") && cmd.contains(home.toString())) found.add(h.pid());
        });
        return found;
    }
}
