package dev.kiln.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The real init1 as an ordinary process (its package written into the test's directory and run as
 * init0 runs it), connected to a {@link GuestConnection} over a Unix socket the test listens on (in
 * a VM the agent opens the virtio port instead).
 */
final class AgentProcess implements AutoCloseable {
    final Path dir;
    final Path root;
    final Process process;
    final GuestConnection connection;
    /** LOG frames (and connection-level errors) the agent sent. */
    final List<GuestLog> logs;
    private final Path console;

    private AgentProcess(Path dir, Path root, Process process, Path console, GuestConnection connection,
                         List<GuestLog> logs) {
        this.logs = logs;
        this.dir = dir;
        this.root = root;
        this.process = process;
        this.console = console;
        this.connection = connection;
    }

    static AgentProcess start(Path dir) throws Exception {
        return start(dir, Pythons.full(), Map.of());
    }

    static AgentProcess start(Path dir, Pythons.Python python, Map<String, String> env) throws Exception {
        return start(dir, python, env, o -> o);
    }

    static AgentProcess start(Path dir, Pythons.Python python, Map<String, String> env,
                              java.util.function.UnaryOperator<GuestConnection.Options> tune) throws Exception {
        GuestInit.writeInit1(dir);
        Path root = Files.createDirectories(dir.resolve("root"));
        Path socket = dir.resolve("agent.sock");
        Path console = dir.resolve("console.log");
        List<GuestLog> logs = new CopyOnWriteArrayList<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            // As init0 runs it: the package as a module, from the directory that holds it.
            ProcessBuilder pb = new ProcessBuilder(Pythons.command(python, "-u", "-m", GuestInit.INIT1_PACKAGE,
                    "--channel", "unix:" + socket, "--root", root.toString())).directory(dir.toFile());
            pb.environment().put("KILN_RUNTIME_NAME", "test-runtime");
            pb.environment().put("KILN_RUNTIME_HASH", "63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696");
            if (python.home() != null) pb.environment().put("PYTHONHOME", python.home().toString());
            pb.environment().putAll(env);
            pb.redirectErrorStream(true).redirectOutput(console.toFile());
            Process process = pb.start();
            CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            SocketChannel channel;
            try {
                channel = accepted.get(15, TimeUnit.SECONDS);
            } catch (Exception e) {
                process.destroyForcibly();
                throw new AssertionError("the agent did not connect; console:\n" + Files.readString(console), e);
            }
            GuestConnection.Options options = GuestConnection.Options.defaults()
                    .withHelloTimeout(Duration.ofSeconds(15)).withCallTimeout(Duration.ofSeconds(30)).withLogSink(logs::add);
            options = tune.apply(options);
            try {
                return new AgentProcess(dir, root, process, console, GuestConnection.open(channel, options), logs);
            } catch (RuntimeException e) {
                process.destroyForcibly();
                throw new AssertionError("handshake failed; console:\n" + Files.readString(console), e);
            }
        }
    }

    String console() {
        try {
            return Files.readString(console);
        } catch (IOException e) {
            return "<no console: " + e + ">";
        }
    }

    int waitForExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the agent did not exit within " + timeout + "; console:\n" + console());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (System.getenv("KILN_TEST_CONSOLE") != null) System.out.println("--- agent console " + dir + "\n" + console());
        connection.close();
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // A test cut short by its timeout: do not leave the agent behind.
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
