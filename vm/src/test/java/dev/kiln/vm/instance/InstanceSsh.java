package dev.kiln.vm.instance;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real OpenSSH client against an instance's forwarded port, with a key the test generates:
 * what the instance boot tests log in with.
 *
 * @param key  the private key file (its public half is {@code key + ".pub"})
 * @param port the loopback port forwarded to the guest's port 22
 */
record InstanceSsh(Path key, int port) {

    /** First boots under TCG on a loaded 2-core host take minutes (cloud-init makes host keys). */
    static final Duration SSH_WAIT = Duration.ofMinutes(8);

    /** A new ed25519 key in {@code dir} and a free loopback port. */
    static InstanceSsh create(Path dir) throws Exception {
        Path key = dir.resolve("id_ed25519");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString()));
        return new InstanceSsh(key, freeLoopbackPort());
    }

    String publicKey() throws IOException {
        return Files.readString(key.resolveSibling(key.getFileName() + ".pub")).strip();
    }

    /** Waits until root logs in and cloud-init has finished; returns milliseconds since QEMU started. */
    long awaitLogin(InstanceVm vm) throws Exception {
        long deadline = System.nanoTime() + SSH_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(vm.running()).as("QEMU still runs; console:\n" + tail(vm.console())).isTrue();
            // Ready means cloud-init has finished: until then it may restart sshd (it rewrites
            // sshd_config), dropping a session; a dropped wait is simply retried.
            Result r = status("cloud-init status --wait --long", Duration.ofMinutes(4));
            if (r.status() == 0) return (System.nanoTime() - vm.startedNs()) / 1_000_000;
            // 255: ssh could not connect or lost the session; -1: our timeout. Anything else is cloud-init's verdict.
            if (r.status() != 255 && r.status() != -1) throw new AssertionError("cloud-init did not finish cleanly:\n" + r.output());
            Thread.sleep(2000);
        }
        throw new AssertionError("no SSH login within " + SSH_WAIT + "; console:\n" + tail(vm.console()));
    }

    /** Runs {@code command} as root; fails the test unless it exits 0. */
    String run(String command) throws Exception {
        Result r = status(command, Duration.ofSeconds(60));
        assertThat(r.status()).as("ssh " + command + ": " + r.output()).isZero();
        return r.output().strip();
    }

    /** For commands that end the session (poweroff). */
    void runIgnoringDisconnect(String command) throws Exception {
        status(command, Duration.ofSeconds(60));
    }

    record Result(int status, String output) {
    }

    Result status(String command, Duration timeout) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ssh", "-i", key.toString(), "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "root@127.0.0.1", command));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + out).isZero();
    }

    static String tail(String text) {
        return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    }
}
