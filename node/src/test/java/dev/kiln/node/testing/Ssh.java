package dev.kiln.node.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real OpenSSH client logging in as root on 127.0.0.1 with a key pair made for the test. */
public final class Ssh {
    public record Result(int status, String output) {
    }

    private final Path key;

    private Ssh(Path key) {
        this.key = key;
    }

    /** A new ed25519 key pair in {@code dir}. */
    public static Ssh newKey(Path dir) throws Exception {
        Path key = dir.resolve("id_ed25519");
        Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("ssh-keygen failed: " + out);
        return new Ssh(key);
    }

    public String publicKey() throws Exception {
        return Files.readString(key.resolveSibling(key.getFileName() + ".pub")).strip();
    }

    /** Runs {@code command}; status 255 is ssh's own failure (no connection, session lost), -1 our timeout. */
    public Result run(int port, String command, Duration timeout) throws Exception {
        List<String> argv = List.of("ssh", "-i", key.toString(), "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "root@127.0.0.1", command);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Runs {@code command}, which must succeed; its output, stripped. */
    public String check(int port, String command) throws Exception {
        Result r = run(port, command, Duration.ofSeconds(60));
        if (r.status() != 0) throw new AssertionError("ssh " + command + " exited " + r.status() + ": " + r.output());
        return r.output().strip();
    }

    /**
     * Waits until root logs in and cloud-init has finished (until then it may restart sshd and drop
     * a session, which is retried); fails with {@code whatIfNot}'s text after {@code within}.
     */
    public void awaitCloudInit(int port, Duration within, java.util.function.Supplier<String> whatIfNot) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            Result r = run(port, "cloud-init status --wait --long", Duration.ofMinutes(4));
            if (r.status() == 0) return;
            if (r.status() != 255 && r.status() != -1) throw new AssertionError("cloud-init did not finish cleanly:\n" + r.output());
            Thread.sleep(2000);
        }
        throw new AssertionError("no SSH login within " + within + ": " + whatIfNot.get());
    }
}
