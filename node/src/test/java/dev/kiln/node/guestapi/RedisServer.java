package dev.kiln.node.guestapi;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's redis-server on a free loopback port, nothing persisted; stopped by {@link #close()}. */
final class RedisServer implements AutoCloseable {
    final int port;
    private final Process process;
    private final Path log;

    private RedisServer(int port, Process process, Path log) {
        this.port = port;
        this.process = process;
        this.log = log;
    }

    static RedisServer start(Path dir, String password) throws Exception {
        Path binary = Path.of("/usr/bin/redis-server");
        if (!Files.isExecutable(binary)) {
            throw new AssertionError("redis-server is not installed: run scripts/setup.sh (it installs Debian's redis-server)");
        }
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Files.createDirectories(dir);
        Path log = dir.resolve("redis.log");
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no");
        if (password != null) pb.command().addAll(java.util.List.of("--requirepass", password));
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        RedisServer server = new RedisServer(port, p, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (RespConnection c = new RespConnection("127.0.0.1", port, 1000)) {
                if (password != null) c.command("AUTH", password);
                if ("PONG".equals(c.command("PING"))) return server;
            } catch (IOException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    server.close();
                    throw new AssertionError("redis-server did not start: " + Files.readString(log), notYet);
                }
                Thread.sleep(50);
            }
        }
    }

    URI url(String password, int db) {
        return URI.create("redis://" + (password == null ? "" : ":" + password + "@") + "127.0.0.1:" + port + "/" + db);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
