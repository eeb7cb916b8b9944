package dev.kiln.node;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.node.console.WebConsole;
import dev.kiln.node.control.AllocationFile;
import dev.kiln.node.control.Allocations;
import dev.kiln.node.control.MachineKind;
import dev.kiln.node.control.Machines;
import dev.kiln.node.control.OperatorToken;
import dev.kiln.node.control.PersistentPrograms;
import dev.kiln.node.guestapi.GuestApiSettings;
import dev.kiln.node.guestapi.GuestApis;
import dev.kiln.node.events.MessageTriggers;
import dev.kiln.node.http.MessageEndpoint;
import dev.kiln.node.update.AmendWatch;
import java.time.Duration;
import dev.kiln.node.http.NodeServer;
import dev.kiln.node.instance.HostSev;
import dev.kiln.node.instance.InstanceResolver;
import dev.kiln.node.instance.InstanceMemory;
import dev.kiln.node.instance.Instances;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.pool.Detachment;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.restart.DetachedSweep;
import dev.kiln.node.snapshot.ProgramSnapshots;
import dev.kiln.node.pool.PoolConfig;
import dev.kiln.node.export.DataExports;
import dev.kiln.node.export.ExportRecords;
import dev.kiln.node.pool.VmPlanner;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.RecordsException;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.ItemResolver;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.instance.InstanceLauncher;
import dev.kiln.vm.qemu.HostTsc;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

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

    private final Allocations allocations;
    private final OperatorToken token;
    private final boolean tokenCreated;
    private final GuestApis guestApis;
    private final Instances instances;
    private final NodeEvents events;

    private Node(NodeServer server, ExecutionPool pool, NodeServices services, NodeMetrics metrics, Path vmsDir,
                 LogStore logs, Allocations allocations, OperatorToken token, boolean tokenCreated, GuestApis guestApis,
                 Instances instances, NodeEvents events) {
        this.guestApis = guestApis;
        this.instances = instances;
        this.events = events;
        this.server = server;
        this.pool = pool;
        this.services = services;
        this.metrics = metrics;
        this.vmsDir = vmsDir;
        this.logs = logs;
        this.allocations = allocations;
        this.token = token;
        this.tokenCreated = tokenCreated;
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
        return start(config, services, networks, GuestApiSettings.defaults().withRemote(firstRemote(services)));
    }

    /** With the guest API set up by {@code guestApi} (docs/guest-api.md). */
    public static Node start(NodeConfig config, NodeServices services, ProgramNetworks networks, GuestApiSettings guestApi)
            throws IOException {
        boolean tokenCreated = !Files.exists(services.home().root().resolve(OperatorToken.FILE_NAME));
        OperatorToken token = OperatorToken.loadOrCreate(services.home().root());
        Path vmsDir = prepareVmsDir(services.home().dir("vms"));
        NodeMetrics metrics = new NodeMetrics();
        ProgramResolver resolver = new ProgramResolver(services.nodeRecords().programs(),
                new ItemResolver(services.blobs(), services.storeRecords(), services.fetcher()), services.fetcher());
        // One store of persistent volumes, so that a program and an instance never attach one image at once.
        PersistentVolumes volumes = new PersistentVolumes(services.home().dir("volumes"));
        VmPlanner planner = new VmPlanner(config.kernel(), config.bootTimeout(), networks, volumes, openExports(services));
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
        Instances instances = null;
        NodeEvents events = null;
        MessageEndpoint messages;
        GuestApis guestApis = null;
        try {
            checkPortFree(config.host(), config.port());
            guestApis = GuestApis.open(guestApi, services.blobs(), services.storeRecords(), services.nodeRecords().programs(),
                    version());
            instances = Instances.open(services.home().dir("instances"), new InstanceResolver(resolver, HostSev.probe()),
                    new InstanceLauncher("qemu-system-x86_64", services.launcher().accelerator(), HostTsc::detect),
                    config.kernel(), volumes, guestApis,
                    InstanceMemory.of(pool::reserveMemory, pool::countMemory, pool::releaseMemory));
            events = NodeEvents.start(services, pool);
            messages = new MessageEndpoint(events.triggers(), token, events.feed(), events.amends());
        } catch (IOException | RuntimeException e) {
            if (events != null) {
                events.stopTaking();
                events.deliveries().close();
            }
            if (instances != null) instances.close();
            if (guestApis != null) guestApis.close();
            pool.close();
            throw e;
        }
        Map<MachineKind, Machines> machines = new EnumMap<>(MachineKind.class);
        machines.put(MachineKind.PERSISTENT_PROGRAM, new PersistentPrograms(pool, resolver, logs));
        machines.put(MachineKind.INSTANCE, instances);
        AllocationFile allocationFile = new AllocationFile(services.home().dir("control"));
        Allocations allocations = new Allocations(machines, allocationFile, h -> messageKind(services, h));
        pool.serveGuestApi(guestApis);
        NodeServer server;
        try {
            String accelerator = services.launcher().accelerator().id();
            WebConsole console = new WebConsole(pool, services.nodeRecords(), services.home(), services.localRuntimes(), logs, accelerator,
                    version());
            server = NodeServer.start(config.host(), config.port(), pool, metrics, accelerator,
                    () -> sampleOrNull(services), version(), console, allocations, token, java.util.List.of(instances),
                    messages);
        } catch (RuntimeException e) {
            events.stopTaking();
            events.deliveries().close();
            instances.close();
            pool.close();
            guestApis.close();
            throw new IOException("cannot listen on " + config.host() + ":" + config.port() + ": " + rootMessage(e)
                    + (config.port() == NodeConfig.DEFAULT_PORT ? "; is another node running? Choose another port with --port" : ""), e);
        }
        try {
            // Before any boot: VMs an earlier node left running that no allocated program will adopt are ended first.
            DetachedSweep.sweep(pool, services.launcher(),
                    allocationFile.load().map(a -> a.of(MachineKind.PERSISTENT_PROGRAM)).orElse(java.util.Set.of()));
            var restored = allocations.restore();
            if (!restored.listed().isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "converging to the recorded allocation: " + restored.listed().size()
                        + " machine(s), " + restored.errors().size() + " refused");
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "no machine was started from the recorded allocation: " + e.getMessage());
        }
        LOG.log(System.Logger.Level.INFO, "node listening on " + server.uri() + " (" + services.launcher().accelerator().id() + ")");
        return new Node(server, pool, services, metrics, vmsDir, logs, allocations, token, tokenCreated, guestApis, instances, events);
    }

    /** The remote the node fetches from ({@code --remote}) is the one the guest API proxies to. */
    private static URI firstRemote(NodeServices services) {
        return services.fetcher().remotes().stream().map(r -> r.location()).findFirst().orElse(null);
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

    /** The rootfs instances this node keeps (operator API: {@link dev.kiln.node.control.Machines}). */
    public Instances instances() {
        return instances;
    }

    public NodeMetrics metrics() {
        return metrics;
    }

    /** Message triggers: post messages, read deliveries (docs/events.md). */
    public MessageTriggers triggers() {
        return events.triggers();
    }

    /** Updates on amend: the VMs drained because something they follow was amended. */
    public AmendWatch amendWatch() {
        return events.amends();
    }

    /** The VMs' logs (docs/node.md, "Logs"). */
    public LogStore logs() {
        return logs;
    }

    /** The operator API's control layer (docs/operator-api.md). */
    public Allocations allocations() {
        return allocations;
    }

    /** Where the operator token is kept (never its value). */
    public Path operatorTokenFile() {
        return token.file();
    }

    /** Whether this start made the operator token (the first start on this home). */
    public boolean operatorTokenCreated() {
        return tokenCreated;
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
        // Instances keep running: the next node re-adopts them (docs/instances.md).
        instances.close();
        try {
            server.close();
        } finally {
            try {
                events.stopTaking();
                if (leavePersistent) pool.close(); else pool.closeStoppingAll();
            } finally {
                events.deliveries().close();
                pool.networks().close();
                guestApis.close();
                pool.dataExports().ifPresent(DataExports::close);
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

    private static DataExports openExports(NodeServices services) throws IOException {
        try {
            return new DataExports(LocalPublisher.open(services.home(), services.blobs(), services.storeRecords()),
                    ExportRecords.open(services.home().db()));
        } catch (RecordsException e) {
            throw new IOException("cannot open the export records: " + e.getMessage(), e);
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

    /** The kind of machine a message recorded on this node runs as, for operations on one in no allocation. */
    private static Optional<MachineKind> messageKind(NodeServices services, ItemHash h) {
        try {
            return services.nodeRecords().programs().find(h).flatMap(r -> {
                try {
                    return AlephMessages.parse(r.messageJson()).messageType();
                } catch (RuntimeException unreadable) {
                    return Optional.empty();
                }
            }).flatMap(t -> switch (t) {
                case PROGRAM -> Optional.of(MachineKind.PERSISTENT_PROGRAM);
                case INSTANCE -> Optional.of(MachineKind.INSTANCE);
                default -> Optional.empty();
            });
        } catch (RecordsException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read the program records: " + e.getMessage());
            return Optional.empty();
        }
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
