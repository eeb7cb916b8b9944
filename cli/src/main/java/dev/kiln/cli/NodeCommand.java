package dev.kiln.cli;

import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.LocalRuntimes;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.cli.setup.NodeSetup;
import dev.kiln.cli.setup.SetupException;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.Node;
import dev.kiln.node.guestapi.GuestApiSettings;
import dev.kiln.node.NodeConfig;
import dev.kiln.node.NodeServices;
import dev.kiln.node.console.LocalRuntimeList;
import dev.kiln.core.hash.ProgramHostname;
import dev.kiln.node.network.NetworkOptions;
import dev.kiln.node.snapshot.SnapshotSettings;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.program.ProgramPublisher;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "node", mixinStandardHelpOptions = true, description = {
        "Start the on-demand node: programs answer at http://HOST:PORT/vm/<item hash>/ from microVMs booted by their first request (docs/node.md).",
        "On first start it builds the guest kernel and the default runtime (cached afterwards), publishes the runtime, deploys a sample program and prints its URL.",
        "Stop it with Ctrl-C: every VM is halted."})
final class NodeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Option(names = "--port", paramLabel = "PORT", description = "HTTP port (default: ${DEFAULT-VALUE}).")
    int port = NodeConfig.DEFAULT_PORT;

    @Option(names = "--host", paramLabel = "ADDRESS", description = "Address to listen on (default: ${DEFAULT-VALUE};"
            + " 0.0.0.0 for every interface, behind a reverse proxy).")
    String host = NodeConfig.DEFAULT_HOST;

    @Option(names = {"--keep-warm", "--idle-timeout"}, paramLabel = "DURATION", description = "Keep a VM up this long"
            + " after its last request: 90s, 10m, 1h, or plain seconds (default: 10m; idle VMs are evicted first when"
            + " memory is needed). resources.seconds of a message is its per-request timeout, not this.")
    String keepWarm;

    @Option(names = "--memory-budget", paramLabel = "MiB", description = "Memory all VMs together may reserve"
            + " (default: 75%% of this machine's RAM).")
    Long memoryBudget;

    @Option(names = "--max-boots", paramLabel = "N", description = "VMs booting at once; further cold starts wait"
            + " in a queue (default: this machine's cores; under TCG each boot keeps a core busy).")
    Integer maxBoots;

    @Option(names = "--network", description = "Give programs with environment.internet a NIC: TAP devices and an"
            + " nftables table of the node's own in this network namespace (needs root; see docs/network.md)."
            + " Off: such programs get 400 unsupported.")
    boolean network;

    @Option(names = "--network-range", paramLabel = "CIDR", description = "IPv4 block cut into one small subnet per"
            + " VM with internet (default: 172.16.0.0/16).")
    String networkRange;

    @Option(names = "--ipv6-prefix", paramLabel = "PREFIX", description = "IPv6 prefix routed to this node (a /64 or"
            + " larger); without it VMs get IPv4 only.")
    String ipv6Prefix;

    @Option(names = "--dns", paramLabel = "ADDRESS", description = "DNS resolver given to VMs (repeatable; default:"
            + " the host's).")
    List<String> dns = new ArrayList<>();

    @Option(names = "--host-ports", paramLabel = "FIRST-LAST", description = "Host ports handed out for published"
            + " guest ports (default: 24000-24999).")
    String hostPorts;

    @Option(names = "--allow-host-forwarding", description = "Let the node turn on IP forwarding in the host's own"
            + " network namespace (off: it then runs without VM networking and says how to enable it).")
    boolean allowHostForwarding;

    @Option(names = "--no-snapshots", description = "Boot every cold start; by default a program's VM is saved after"
            + " its first boot and later cold starts restore it (docs/snapshots.md).")
    boolean noSnapshots;

    @Option(names = "--snapshot-cap", paramLabel = "MiB", description = "Disk the snapshots may take in all, apparent"
            + " sizes; least recently used ones go first (default: 4096).")
    Long snapshotCapMiB;

    @Option(names = "--no-snapshot", paramLabel = "ITEM_HASH", description = "Never snapshot this program (repeatable):"
            + " for one whose start-up state must be unique per VM.")
    List<String> noSnapshotPrograms = new ArrayList<>();

    @Option(names = "--redis", paramLabel = "URL", description = "Keep the guest API's program caches in this Redis"
            + " (redis://[:password@]host:port[/db]); default: in the node's memory.")
    java.net.URI redis;

    @Option(names = "--guest-api-post", description = "Let programs with environment.aleph_api post messages (signed by"
            + " themselves) through the node to --remote; off by default (403 post_disabled).")
    boolean guestApiPost;

    @Option(names = "--no-sample", description = "Do not deploy the sample program.")
    boolean noSample;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        // The node logs as a service does (one line per event, on stderr); set before the first log
        // record creates JUL's console handler. An explicit -D from KILN_JAVA_OPTS wins.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %5$s%6$s%n");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (port < 0 || port > 65535) {
            err.println("kiln: --port must be 0-65535, got " + port);
            return Main.USAGE;
        }
        NodeRecords records = NodeRecords.open(kiln.home());
        kiln.root().closeLater(records);
        ProgramPublisher programs = new ProgramPublisher(kiln.home(), kiln.publisher(), kiln.records(), records.programs());
        NodeSetup.Prepared prepared;
        try (NodeSetupBar bar = new NodeSetupBar(out, !quiet)) {
            NodeSetup setup = new NodeSetup(kiln.home(), kiln.publisher(), kiln.records(), programs, bar);
            prepared = noSample ? new NodeSetup.Prepared(setup.kernel(), setup.runtime(NodeSetup.DEFAULT_RUNTIME), null)
                    : setup.prepare();
        } catch (SetupException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USER_ERROR;
        }

        QemuLauncher launcher = new QemuLauncher(QemuLauncher.Options.in(kiln.home().root())
                .withKernel(prepared.kernel().vmlinux()));
        NodeConfig config = NodeConfig.defaults(prepared.kernel().vmlinux()).withHost(host).withPort(port);
        if (keepWarm != null) {
            try {
                config = config.withIdleTimeout(KeepWarmOption.parse(keepWarm));
            } catch (IllegalArgumentException e) {
                err.println("kiln: --keep-warm: " + e.getMessage());
                return Main.USAGE;
            }
        }
        if (memoryBudget != null) config = config.withMemoryBudgetMiB(memoryBudget);
        if (maxBoots != null) {
            if (maxBoots < 1) {
                err.println("kiln: --max-boots must be at least 1");
                return Main.USAGE;
            }
            config = config.withMaxConcurrentBoots(maxBoots);
        }
        SnapshotSettings snapshots = SnapshotSettings.defaults().withEnabled(!noSnapshots);
        if (snapshotCapMiB != null) {
            if (snapshotCapMiB < 0) {
                err.println("kiln: --snapshot-cap cannot be negative");
                return Main.USAGE;
            }
            snapshots = snapshots.withCapBytes(snapshotCapMiB << 20);
        }
        Set<ItemHash> optOut = new HashSet<>();
        for (String h : noSnapshotPrograms) {
            try {
                optOut.add(ItemHash.parse(h));
            } catch (IllegalArgumentException e) {
                err.println("kiln: --no-snapshot needs a program's item hash (64 hex digits), got " + h);
                return Main.USAGE;
            }
        }
        config = config.withSnapshots(snapshots.withOptOut(optOut));
        Node node;
        ProgramNetworks networks;
        try {
            networks = startNetworks(records);
        } catch (IllegalArgumentException e) {
            launcher.close();
            err.println("kiln: " + e.getMessage());
            return Main.USAGE;
        }
        if (network) out.println("VM networking: " + networks.describe());
        try {
            node = Node.start(config, new NodeServices(kiln.home(), kiln.blobs(), kiln.records(), kiln.fetcher(), records,
                    launcher, localRuntimes(kiln.home().root())), networks, GuestApiSettings.defaults()
                    .withRemote(kiln.fetcher().remotes().stream().map(r -> r.location()).findFirst().orElse(null))
                    .withRedis(redis).withAllowPost(guestApiPost));
        } catch (IOException | IllegalArgumentException e) {
            networks.close();
            launcher.close();
            err.println("kiln: " + e.getMessage());
            return Main.USER_ERROR;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            int vms = node.pool().executions().size();
            long kept = node.pool().persistent().keySet().stream()
                    .filter(p -> node.pool().running(p).map(e -> e.vm().adoption().isPresent()).orElse(false)).count();
            node.close();
            records.close();
            out.println("Kiln node stopped" + (vms == 0 ? "." : "; " + (vms - kept) + " VM(s) halted")
                    + (kept == 0 ? (vms == 0 ? "" : ".") : ", " + kept + " persistent VM(s) left running for the next node."));
            out.flush();
            stopped.countDown();
        }, "kiln-node-shutdown"));

        out.println();
        out.println("Kiln node listening on " + node.uri() + "  (accelerator: " + launcher.acceleratorChoice() + ")");
        out.println("  runtime " + prepared.runtime().spec() + ": " + prepared.runtime().ref());
        if (prepared.sample() != null) {
            String url = node.programUri(prepared.sample().message()).toString();
            out.println("  sample program: " + url);
            out.println("  try:   curl " + url);
            out.println("  or by hostname: curl -H 'Host: " + ProgramHostname.label(prepared.sample().message())
                    + ".localhost' " + node.uri() + "/");
            out.println("  self check: curl " + node.uri() + "/status/check/fastapi");
        }
        out.println("  running VMs: curl " + node.uri() + "/about/executions/list   metrics: " + node.uri() + "/metrics");
        out.println("  logs: kiln logs <program> -f   status: kiln status");
        // Where the token is, never the token: it must not end up in a terminal log.
        out.println("  operator API (kiln allocation, kiln instance): token in " + node.operatorTokenFile()
                + (node.operatorTokenCreated() ? " (made now, mode 0600)" : ""));
        out.println("Press Ctrl-C to stop (VMs are halted first; persistent programs' VMs keep running for the next node).");
        out.println("Console: " + node.consoleUri());
        out.flush();
        stopped.await();
        return Main.OK;
    }

    /** The builder's local runtimes, as the node's console lists them (the node does not know the builder). */
    static LocalRuntimeList localRuntimes(Path home) {
        return () -> {
            LocalRuntimes local = new LocalRuntimes(home);
            // The SBOM is in the manifest the builder wrote beside the image: found by the image's hash.
            Map<String, Path> manifests = new HashMap<>();
            for (BuiltRuntime b : new RuntimeBuilder(home, BuildListener.SILENT).list()) {
                manifests.putIfAbsent(b.imageHash().value(), b.manifest());
            }
            Map<String, Long> sizes = new HashMap<>();
            for (LocalRuntimes.Publication p : local.publications()) {
                sizes.put(p.messageHash(), p.sizeBytes());
                Path m = manifests.get(p.imageSha256());
                if (m != null) manifests.put(p.messageHash(), m);
            }
            List<LocalRuntimeList.Local> out = new ArrayList<>();
            for (RuntimeEntry e : local.entries()) {
                out.add(new LocalRuntimeList.Local(e, sizes.get(e.itemHash().value()), manifests.get(e.itemHash().value())));
            }
            return out;
        };
    }

    /**
     * Networking only when asked for: the probe alone creates a TAP device, and a node run by root
     * in the host's namespace must not touch its interfaces or firewall unless the operator said so.
     */
    private ProgramNetworks startNetworks(NodeRecords records) {
        if (!network) {
            if (networkRange != null || ipv6Prefix != null || !dns.isEmpty() || hostPorts != null || allowHostForwarding) {
                throw new IllegalArgumentException("the network options need --network");
            }
            return ProgramNetworks.disabled("the node was started without --network");
        }
        return new NetworkOptions(networkRange, ipv6Prefix, dns, hostPorts, allowHostForwarding).start(records.ports()::of, records.detachedVms());
    }
}
