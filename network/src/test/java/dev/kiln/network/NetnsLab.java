package dev.kiln.network;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Network namespaces for one test, all named with a prefix unique to that test, and everything
 * in them removed afterwards whether the test passed or not: the processes it started (killed
 * first, as a process keeps its namespace alive), every namespace carrying the prefix (with its
 * veths, TAPs and nftables tables, which live and die with the namespace), and the
 * /etc/netns/NAME resolv.conf files ip-netns bind-mounts for them. Nothing is made in the
 * machine's own namespace.
 */
public final class NetnsLab implements BeforeEachCallback, AfterEachCallback {

    private static final Path ETC_NETNS = Path.of("/etc/netns");
    /** Longer than any test that makes namespaces runs. */
    private static final Duration ABANDONED_AFTER = Duration.ofHours(2);

    private String prefix;
    private final List<Process> processes = new ArrayList<>();
    private Path scratch;
    private Path probeScript;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        assumeTrue(isRoot(), "network namespace tests need root (ip netns add)");
        for (String tool : List.of("nft", "dnsmasq")) {
            assumeTrue(Stream.of("/usr/sbin/", "/sbin/", "/usr/bin/").anyMatch(d -> Files.isExecutable(Path.of(d + tool))),
                    tool + " is not installed (apt-get install nftables dnsmasq-base)");
        }
        sweepAbandoned();
        prefix = "ktn" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        scratch = Files.createTempDirectory("kiln-netns-");
        probeScript = scratch.resolve("probe.py");
        try (InputStream in = NetnsLab.class.getResourceAsStream("probe.py")) {
            Files.copy(in, probeScript);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            p.waitFor();
        }
        for (String ns : namespaces()) {
            run("ip", "netns", "del", ns);
        }
        if (Files.isDirectory(ETC_NETNS)) {
            try (Stream<Path> dirs = Files.list(ETC_NETNS)) {
                for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith(prefix)).toList()) {
                    deleteTree(dir);
                }
            }
        }
        deleteTree(scratch);
    }

    /** The namespaces with this test's prefix that exist now. */
    public List<String> namespaces() {
        return run("ip", "netns", "list").stdout().lines()
                .map(l -> l.split(" ")[0]).filter(n -> n.startsWith(prefix)).toList();
    }

    String name(String role) {
        return prefix + "-" + role;
    }

    public String add(String role) {
        String ns = name(role);
        run("ip", "netns", "add", ns).orThrow();
        run("ip", "-n", ns, "link", "set", "lo", "up").orThrow();
        return ns;
    }

    /** ip/nft commands inside the namespace. */
    public HostCommands in(String ns) {
        return HostCommands.inNamespace(ns);
    }

    /** A long-running process inside the namespace, killed after the test. */
    public Process spawn(String ns, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(command));
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(scratch.resolve("process-" + processes.size() + ".log").toFile()).start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a probe.py subcommand in the namespace (see the script for the subcommands). */
    CommandResult probe(String ns, String... args) {
        List<String> full = new ArrayList<>(List.of("/usr/bin/python3", probeScript.toString()));
        full.addAll(List.of(args));
        return in(ns).run(full, null);
    }

    Process spawnProbe(String ns, String... args) {
        List<String> full = new ArrayList<>(List.of("/usr/bin/python3", probeScript.toString()));
        full.addAll(List.of(args));
        return spawn(ns, full.toArray(String[]::new));
    }

    public Path scratch() {
        return scratch;
    }

    /** What ip-netns exec bind-mounts over /etc/resolv.conf inside the namespace. */
    void resolvConf(String ns, List<Ipv4Address> servers) throws IOException {
        Path dir = ETC_NETNS.resolve(ns);
        Files.createDirectories(dir);
        StringBuilder b = new StringBuilder();
        servers.forEach(s -> b.append("nameserver ").append(s).append('\n'));
        Files.writeString(dir.resolve("resolv.conf"), b.toString());
    }

    /**
     * A test JVM killed mid-test (SIGKILL, a stopped build) never reaches afterEach, and its
     * namespaces would stay on the machine for good. Another test JVM may be running now, so only
     * namespaces of this lab's naming that no process is in and that are older than any test are
     * removed.
     */
    private static void sweepAbandoned() throws IOException {
        Path dir = Path.of("/run/netns");
        if (!Files.isDirectory(dir)) return;
        long cutoff = System.currentTimeMillis() - ABANDONED_AFTER.toMillis();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path ns : entries.filter(p -> p.getFileName().toString().matches("ktn[0-9a-f]{6}-.*")).toList()) {
                String name = ns.getFileName().toString();
                if (Files.getLastModifiedTime(ns).toMillis() < cutoff && run("ip", "netns", "pids", name).stdout().isBlank()) {
                    run("ip", "netns", "del", name);
                    deleteTree(ETC_NETNS.resolve(name));
                }
            }
        }
    }

    static CommandResult run(String... command) {
        return HostCommands.current().run(command);
    }

    private static boolean isRoot() {
        return run("id", "-u").stdout().strip().equals("0");
    }

    private static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
