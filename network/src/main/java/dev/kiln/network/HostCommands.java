package dev.kiln.network;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Runs ip(8), nft(8) and friends, either in the node's own network namespace or — for tests and
 * for a node that manages a namespace it was not started in — inside a named one through
 * {@code ip netns exec NS}. Everything the network code does to the kernel goes through here, so
 * the namespace is chosen in exactly one place.
 */
public final class HostCommands {

    private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final long TIMEOUT_SECONDS = 30;
    /** Pipe readers: the common pool has one thread on a 2-core machine, and two blocking reads would queue. */
    private static final Executor READERS = Executors.newVirtualThreadPerTaskExecutor();

    private final String namespace;

    private HostCommands(String namespace) {
        this.namespace = namespace;
    }

    /** Commands run in whatever namespace the node process is in (`ip netns exec NS kiln node` included). */
    public static HostCommands current() {
        return new HostCommands(null);
    }

    public static HostCommands inNamespace(String namespace) {
        if (!NAMESPACE.matcher(namespace).matches()) {
            throw new IllegalArgumentException("'" + namespace + "' is not a network namespace name");
        }
        return new HostCommands(namespace);
    }

    /** The namespace name, or null for the process's own. */
    public String namespace() {
        return namespace;
    }

    public CommandResult run(String... command) {
        return run(List.of(command), null);
    }

    public CommandResult run(List<String> command, String stdin) {
        List<String> full = new ArrayList<>();
        if (namespace != null) {
            full.addAll(List.of("ip", "netns", "exec", namespace));
        }
        full.addAll(command);
        Process process;
        try {
            process = new ProcessBuilder(full).start();
        } catch (IOException e) {
            throw new NetworkCommandException("cannot run '" + command.getFirst() + "': " + e.getMessage()
                    + " (install iproute2 and nftables)", e);
        }
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        try (var in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the command exited before reading its input; its exit code and stderr say why
        }
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new NetworkCommandException("'" + String.join(" ", full) + "' did not finish in "
                        + TIMEOUT_SECONDS + " s", null);
            }
            return new CommandResult(List.copyOf(full), process.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new NetworkCommandException("interrupted while running '" + String.join(" ", full) + "'", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, READERS);
    }

    @Override
    public String toString() {
        return namespace == null ? "this network namespace" : "network namespace " + Objects.toString(namespace);
    }
}
