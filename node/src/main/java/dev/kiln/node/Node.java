package dev.kiln.node;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.console.WebConsole;
import dev.kiln.node.http.NodeServer;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.pool.Detachment;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.restart.DetachedSweep;
import dev.kiln.node.snapshot.ProgramSnapshots;
import dev.kiln.node.pool.PoolConfig;
import dev.kiln.node.pool.VmPlanner;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.ItemResolver;
import dev.kiln.vm.Accelerator;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * A running on-demand node: the webserver on {@link NodeConfig#port()}, the execution pool
 * behind it. {@link #close()} stops accepting requests, stops every VM gracefully and waits for
 * their VMMs to exit, then closes the launcher. See docs/node.md.
 */
public final class Node implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Node.class.getName());

    private final NodeServer server;
    private final ExecutionPool pool;
    private final NodeServices services;
    private final NodeMetrics metrics;
    private final Path vmsDir;
    private final LogStore logs;

    private Node(NodeServer server, ExecutionPool pool, NodeServices services, NodeMetrics metrics, Path vmsDir,
                 LogStore logs) {
        this.server = server;
        this.pool = pool;
        this.services = services;
        this.metrics = metrics;
        this.vmsDir = vmsDir;
        this.logs = logs;
    }

    /** A node without VM networking: a program that needs {@code environment.internet} gets 400 unsupported. */
    public static Node start(NodeConfig config, NodeServices services) throws IOException {
        return start(config, services, ProgramNetworks.disabled("the node was started without VM networking"));
    }

    /**
     * A node whose internet programs are networked by {@code networks} (started by the caller,
     * closed by this node's {@link #close()}).
     */
    public static Node start(NodeConfig config, NodeServices services, ProgramNetworks networks) throws IOException {
        Path vmsDir = prepareVmsDir(services.home().dir("vms"));
        NodeMetrics metrics = new NodeMetrics();
        ProgramResolver resolver = new ProgramResolver(services.nodeRecords().programs(),
                new ItemResolver(services.blobs(), services.storeRecords(), services.fetcher()), services.fetcher());
        VmPlanner planner = new VmPlanner(config.kernel(), config.bootTimeout(), networks,
                new PersistentVolumes(services.home().dir("volumes")));
        PoolConfig poolConfig = new PoolConfig(config.idleTimeout(), config.memoryBudgetMiB(), config.vmmOverheadMiB(),
                config.stopGrace(), vmsDir, config.maxConcurrentBoots(), config.bootQueueWait());
        ProgramSnapshots snapshots = ProgramSnapshots.open(services.home().dir("snapshots"), config.snapshots(),
                services.launcher());
        Detachment detachment = new Detachment(Files.createDirectories(services.home().dir("vms").resolve("detached")),
                services.nodeRecords().detachedVms());
        ExecutionPool pool = new ExecutionPool(poolConfig, services.launcher(), resolver, planner,
                services.nodeRecords().executions(), metrics, snapshots, detachment);
        LogStore logs = new LogStore(config.logs());
        pool.observe(new LogObserver(logs));
        checkPortFree(config.host(), config.port());
        NodeServer server;
        try {
            String accelerator = services.launcher().accelerator().id();
            WebConsole console = new WebConsole(pool, services.nodeRecords(), services.home(), services.localRuntimes(), logs, accelerator,
                    version());
            server = NodeServer.start(config.host(), config.port(), pool, metrics, accelerator,
                    () -> sampleOrNull(services), version(), console);
        } catch (RuntimeException e) {
            pool.close();
            throw new IOException("cannot listen on " + config.host() + ":" + config.port() + ": " + rootMessage(e)
                    + (config.port() == NodeConfig.DEFAULT_PORT ? "; is another node running? Choose another port with --port" : ""), e);
        }
        keepPersistent(services, pool);
        LOG.log(System.Logger.Level.INFO, "node listening on " + server.uri() + " (" + services.launcher().accelerator().id() + ")");
        return new Node(server, pool, services, metrics, vmsDir, logs);
    }

    public URI uri() {
        return server.uri();
    }

    public int port() {
        return server.port();
    }

    public Accelerator accelerator() {
        return services.launcher().accelerator();
    }

    public ExecutionPool pool() {
        return pool;
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    /** The VMs' logs (docs/node.md, "Logs"). */
    public LogStore logs() {
        return logs;
    }

    /** The console's address (docs/console.md). */
    public URI consoleUri() {
        return server.uri().resolve("/");
    }

    /** The URL of a program on this node, by path. */
    public URI programUri(ItemHash program) {
        return server.uri().resolve("/vm/" + program.value() + "/");
    }

    /**
     * Stops the node: no more requests, every VM stopped gracefully — except persistent programs'
     * VMs, which keep running for the next node on this home to adopt (docs/node.md, "Restarts").
     */
    @Override
    public void close() {
        close(true);
    }

    /** As {@link #close()}, but persistent programs' VMs are stopped too. */
    public void closeStoppingAll() {
        close(false);
    }

    private void close(boolean leavePersistent) {
        try {
            server.close();
        } finally {
            try {
                if (leavePersistent) pool.close(); else pool.closeStoppingAll();
            } finally {
                pool.networks().close();
                services.launcher().close();
                try {
                    services.nodeRecords().executions().flush();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                deleteTree(vmsDir);
            }
        }
    }

    /**
     * Helidon logs a failed bind with a stack trace and returns a stopped server instead of
     * throwing; binding once first turns the common case into one clear sentence.
     */
    private static void checkPortFree(String host, int port) throws IOException {
        if (port == 0) return;
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage()
                    + "; is another node running? Choose another port with --port", e);
        }
    }

    /**
     * Until the operator's allocation API exists, a persistent program published on this node's
     * home is allocated to it: the node keeps each running from its start.
     */
    private static void keepPersistent(NodeServices services, ExecutionPool pool) {
        java.util.Set<ItemHash> kept = new java.util.LinkedHashSet<>();
        try {
            for (var r : services.nodeRecords().programs().list()) {
                boolean persistent;
                try {
                    persistent = dev.kiln.core.message.AlephMessages.parse(r.messageJson())
                            .contentAs(dev.kiln.core.message.ProgramContent.class).isPersistent();
                } catch (RuntimeException unreadable) {
                    continue; // its requests get the resolver's clear error
                }
                if (persistent) kept.add(r.messageHash());
            }
        } catch (RecordsException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list programs to start the persistent ones: " + e.getMessage());
        }
        // Before any boot: VMs left running that no kept program will adopt are ended first.
        DetachedSweep.sweep(pool.detachment(), services.launcher(), kept);
        for (ItemHash program : kept) pool.keepRunning(program);
    }

    private static ItemHash sampleOrNull(NodeServices services) {
        try {
            return services.nodeRecords().programs().findByName(SampleProgram.NAME).map(r -> r.messageHash()).orElse(null);
        } catch (RecordsException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot look up the sample program: " + e.getMessage());
            return null;
        }
    }

    /**
     * This node's VM directory, {@code vms/node-<pid>-<n>}; directories left by node processes
     * that are gone are removed (their VMMs died with them: the driver ties each VMM to its parent).
     */
    private static Path prepareVmsDir(Path vms) throws IOException {
        Files.createDirectories(vms);
        long self = ProcessHandle.current().pid();
        try (var list = Files.list(vms)) {
            for (Path p : list.toList()) {
                String[] parts = p.getFileName().toString().split("-");
                if (parts.length != 3 || !parts[0].equals("node")) continue;
                try {
                    long pid = Long.parseLong(parts[1]);
                    if (pid != self && ProcessHandle.of(pid).isEmpty()) deleteTree(p);
                } catch (NumberFormatException ignored) {
                    // not one of ours
                }
            }
        }
        return Files.createDirectories(vms.resolve("node-" + self + "-" + NODES.incrementAndGet()));
    }

    private static final java.util.concurrent.atomic.AtomicInteger NODES = new java.util.concurrent.atomic.AtomicInteger();

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not remove " + dir + ": " + e.getMessage());
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return String.valueOf(t.getMessage());
    }

    static String version() {
        String v = Node.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }
}
