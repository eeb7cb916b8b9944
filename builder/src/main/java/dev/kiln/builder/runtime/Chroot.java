package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.KeyLock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs commands inside the root filesystem being built, each in its own private mount and PID
 * namespace ({@code unshare --mount --propagation private --pid --fork --kill-child}). The
 * namespace's mounts (/proc, /sys, /dev, the package cache) exist only while the command runs and
 * vanish with its last process, so a failed, killed or interrupted build cannot leave mounts
 * behind on the host, and nothing the chroot mounts propagates out.
 */
final class Chroot {

    /**
     * Mounts the kernel filesystems and the package cache, then execs chroot. Arguments: root,
     * package cache directory (or empty), then the command. The host's resolv.conf is bound over
     * the image's so apt, pip and npm can resolve names (Normalise rewrites the image's file).
     */
    private static final String ENTER = """
            set -e
            root=$1; cache=$2; shift 2
            mount -t proc proc "$root/proc"
            mount -t sysfs -o ro sysfs "$root/sys"
            mount --rbind /dev "$root/dev"
            if [ -n "$cache" ]; then
                mkdir -p "$root/var/cache/apt/archives"
                mount --bind "$cache" "$root/var/cache/apt/archives"
            fi
            if [ -f /etc/resolv.conf ]; then
                rm -f "$root/etc/resolv.conf"
                : > "$root/etc/resolv.conf"
                mount --bind -o ro /etc/resolv.conf "$root/etc/resolv.conf"
            fi
            if [ -n "${KILN_HOST_CA:-}" ]; then
                mkdir -p "$root/run"
                : > "$root$KILN_HOST_CA"
                mount --bind -o ro /etc/ssl/certs/ca-certificates.crt "$root$KILN_HOST_CA"
            fi
            exec chroot "$root" "$@"
            """;

    /** The host's CA bundle (Debian's path) and where the chroot sees it while a command runs. */
    private static final Path HOST_CA_BUNDLE = Path.of("/etc/ssl/certs/ca-certificates.crt");
    private static final String CHROOT_CA_BUNDLE = "/run/kiln-host-ca.crt";

    private final RootFs root;
    private final Path packageCache;
    private final BuildLog log;
    private final Map<String, String> environment;

    /**
     * @param packageCache the host directory holding downloaded .debs, mounted at
     *                     /var/cache/apt/archives; null for commands that install nothing
     */
    Chroot(RootFs root, Path packageCache, BuildLog log, long sourceDateEpoch) {
        this.root = root;
        this.packageCache = packageCache;
        this.log = log;
        Map<String, String> env = new java.util.TreeMap<>(Map.of(
                "DEBIAN_FRONTEND", "noninteractive",
                "DEBCONF_NONINTERACTIVE_SEEN", "true",
                "SOURCE_DATE_EPOCH", Long.toString(sourceDateEpoch),
                "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME", "/root",
                "LANG", "C.UTF-8",
                // Same order of set and dict constants whatever the build: deterministic bytecode.
                "PYTHONHASHSEED", "0",
                "TMPDIR", "/tmp"));
        // pip and npm download over HTTPS, possibly through a proxy the host trusts with its own
        // CA: they get the host's bundle, bound into the image's /run for the duration of the
        // command only; run() removes the empty mount point afterwards, so it never ships.
        if (Files.isRegularFile(HOST_CA_BUNDLE)) {
            env.put("KILN_HOST_CA", CHROOT_CA_BUNDLE);
            env.put("NODE_EXTRA_CA_CERTS", CHROOT_CA_BUNDLE);
            env.put("PIP_CERT", CHROOT_CA_BUNDLE);
        }
        this.environment = Map.copyOf(env);
    }

    /** Runs {@code argv} in the chroot; a non-zero exit is an IOException naming the command. */
    void run(List<String> argv, Consumer<String> onLine) throws IOException, InterruptedException {
        String shown = String.join(" ", argv);
        log.line("# (chroot) " + shown);
        int status;
        // apt in two chroots sharing one package cache fails on the cache's own lock ("Could not get
        // lock /var/cache/apt/archives/lock"): builds of different images, in this JVM or another,
        // take turns for the commands that mount it; everything else of a build still overlaps.
        try (KeyLock shared = packageCache == null ? null
                : KeyLock.acquire(packageCache.resolveSibling(packageCache.getFileName() + ".lock"))) {
            status = command(argv).run(text -> {
                log.line(text);
                onLine.accept(text);
            });
        } finally {
            // The mount point of the host's CA bundle; the bundle itself was never in the tree.
            if (environment.containsKey("KILN_HOST_CA")) Files.deleteIfExists(root.resolve(CHROOT_CA_BUNDLE));
        }
        if (status != 0) throw new IOException("`" + shown + "` failed in the chroot (exit status " + status + ")");
    }

    void run(String... argv) throws IOException, InterruptedException {
        run(List.of(argv), line -> { });
    }

    /**
     * The namespace plumbing around {@code argv}. {@code env -i} gives the chroot only Kiln's
     * environment: nothing of the user's shell (locale, proxies, PYTHON*) reaches the build.
     */
    private ExternalCommand command(List<String> argv) {
        List<String> full = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private",
                "--pid", "--fork", "--kill-child", "--", "env", "-i"));
        environment.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> full.add(e.getKey() + "=" + e.getValue()));
        full.addAll(List.of("/bin/sh", "-c", ENTER, "kiln-chroot",
                root.dir().toString(), packageCache == null ? "" : packageCache.toString()));
        full.addAll(argv);
        return new ExternalCommand(full, root.dir(), Map.of());
    }
}
