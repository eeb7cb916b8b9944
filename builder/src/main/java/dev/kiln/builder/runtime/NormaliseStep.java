package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.StepProgress;

import dev.kiln.guest.GuestInit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes everything that differs between two builds of the same spec, so their images are byte
 * for byte identical: logs, caches, backup files, machine identity, the host's name and resolver,
 * password-change dates, owners unknown to the image, Python bytecode (recompiled
 * deterministically) and every timestamp (set to SOURCE_DATE_EPOCH).
 */
final class NormaliseStep implements BuildStep {

    /** Files whose content is build-specific and that nothing needs at run time. */
    private static final List<String> BUILD_LEFTOVERS = List.of("/var/cache/ldconfig/aux-cache",
            "/var/lib/systemd/random-seed", "/var/lib/dbus/machine-id", "/etc/passwd-", "/etc/group-",
            "/etc/shadow-", "/etc/gshadow-", "/etc/subuid-", "/etc/subgid-", "/var/lib/dpkg/status-old",
            "/var/lib/dpkg/diversions-old", "/var/lib/dpkg/statoverride-old", "/var/cache/debconf/config.dat-old",
            "/var/cache/debconf/templates.dat-old", "/var/cache/debconf/passwords.dat-old", "/usr/sbin/policy-rc.d",
            // apt's binary caches of its lists (kept when package_data is): a few bytes differ per
            // build, and apt remakes them from the lists on its first run.
            "/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin");
    /** Emptied, not removed: the directories are part of the filesystem layout. */
    private static final List<String> EMPTIED_DIRS = List.of("/tmp", "/var/tmp", "/var/log", "/run", "/var/cache/man");
    private static final Set<String> ROOT_HOME_KEPT = Set.of(GuestInit.INIT1_PACKAGE, ".bashrc", ".profile");
    private static final Duration COMPILE_TIMEOUT = Duration.ofMinutes(10);

    private final RuntimeSpec spec;
    private final RootFs root;
    private final Chroot chroot;
    private final BuildLog log;

    NormaliseStep(RuntimeSpec spec, RootFs root, Chroot chroot, BuildLog log) {
        this.spec = spec;
        this.root = root;
        this.chroot = chroot;
        this.log = log;
    }

    @Override
    public String name() {
        return "Normalise";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(spec.slim().bytecode().equals(RuntimeSpec.Slim.PRECOMPILE) ? 12 : 3);
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        progress.report(0, "logs, caches and identity");
        for (String f : BUILD_LEFTOVERS) FileTrees.delete(root.resolve(f));
        for (String d : EMPTIED_DIRS) emptyLogsAndTemp(d);
        cleanRootHome();
        identity();
        shadowDates();

        progress.report(0.15, "Python bytecode");
        bytecode(progress);

        progress.report(0.8, "owners");
        owners();
        progress.report(0.9, "timestamps");
        timestamps();
    }

    /** Empties a directory: logs become empty files in place (packages expect the names), the rest goes. */
    private void emptyLogsAndTemp(String guestDir) throws IOException {
        Path dir = root.resolve(guestDir);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        boolean logs = guestDir.equals("/var/log");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                if (logs && Files.isDirectory(e, LinkOption.NOFOLLOW_LINKS)) {
                    emptyTree(e);
                } else {
                    FileTrees.delete(e);
                }
            }
        }
    }

    /** Deletes the files of a log directory, keeping its subdirectories (apt/, installer/). */
    private static void emptyTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private void cleanRootHome() throws IOException {
        Path home = root.resolve("/root");
        if (!Files.isDirectory(home, LinkOption.NOFOLLOW_LINKS)) return;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(home)) {
            for (Path e : entries) {
                if (!ROOT_HOME_KEPT.contains(e.getFileName().toString())) FileTrees.delete(e);
            }
        }
    }

    /**
     * debootstrap copies the host's hostname and resolv.conf; a machine-id would identify every VM
     * as the same machine. init0 sets the hostname and init1 writes resolv.conf at boot.
     */
    private void identity() throws IOException {
        replace("/etc/hostname", "kiln\n");
        replace("/etc/resolv.conf", "");
        replace("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        Path machineId = root.resolve("/etc/machine-id");
        if (Files.exists(machineId, LinkOption.NOFOLLOW_LINKS)) replace("/etc/machine-id", "");
        Path mailname = root.resolve("/etc/mailname");
        if (Files.exists(mailname, LinkOption.NOFOLLOW_LINKS)) replace("/etc/mailname", "kiln\n");
    }

    private void replace(String guestPath, String content) throws IOException {
        Path file = root.resolve(guestPath);
        Files.deleteIfExists(file);
        Files.writeString(file, content);
        Images.setMode(file, 0644);
    }

    /** /etc/shadow's third field is the day the password last changed: the build's day. */
    private void shadowDates() throws IOException {
        Path shadow = root.resolve("/etc/shadow");
        if (!Files.isRegularFile(shadow, LinkOption.NOFOLLOW_LINKS)) return;
        String day = Long.toString(spec.sourceDateEpoch() / 86_400);
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(shadow, StandardCharsets.UTF_8)) {
            String[] f = line.split(":", -1);
            if (f.length >= 3 && !f[2].isEmpty()) f[2] = day;
            out.add(String.join(":", f));
        }
        Object mode = Files.getAttribute(shadow, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        Files.write(shadow, out, StandardCharsets.UTF_8);
        Files.setAttribute(shadow, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Debian's postinsts compile .pyc files in timestamp mode, with whatever hash seed the build
     * had. All of them go; with {@code bytecode: precompile} the image's own Python compiles every
     * module again with a fixed hash seed and unchecked-hash invalidation (the source never
     * changes on a read-only root, and the .pyc does not record the build's time).
     */
    private void bytecode(StepProgress progress) throws IOException, InterruptedException {
        long removedBytes = 0;
        List<Path> caches = new ArrayList<>();
        List<Path> stray = new ArrayList<>();
        for (String top : List.of("/usr", "/opt", "/root", "/etc")) {
            Path dir = root.resolve(top);
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) continue;
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    if (d.getFileName().toString().equals("__pycache__")) {
                        caches.add(d);
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (file.getFileName().toString().endsWith(".pyc")) stray.add(file);
                    return FileVisitResult.CONTINUE;
                }
            });
        }
        for (Path c : caches) {
            removedBytes += FileTrees.size(c);
            FileTrees.delete(c);
        }
        for (Path p : stray) {
            removedBytes += Files.size(p);
            Files.delete(p);
        }
        log.line(String.format(java.util.Locale.ROOT, "normalise: removed %d __pycache__ directories (%.1f MB)",
                caches.size(), removedBytes / 1e6));
        if (!spec.slim().bytecode().equals(RuntimeSpec.Slim.PRECOMPILE)) return;
        List<String> dirs = pythonDirs();
        if (dirs.isEmpty()) return;
        progress.report(0.2, "compile " + String.join(" ", dirs));
        List<String> argv = new ArrayList<>(List.of("python3", "-m", "compileall", "-q", "-f",
                "--invalidation-mode", "unchecked-hash"));
        argv.addAll(dirs);
        // init0 runs init1 as a package so that these .pyc files are used instead of compiling them each boot.
        if (Files.isDirectory(root.resolve(GuestInit.INIT1_PATH), LinkOption.NOFOLLOW_LINKS)) argv.add(GuestInit.INIT1_PATH);
        try {
            chroot.run(argv, line -> { });
        } catch (IOException e) {
            // compileall exits 1 when some file does not compile (Python 2 leftovers, templates
            // named .py); those fail at import with or without a .pyc. The log shows which.
            log.line("normalise: some Python files did not compile (see above); they ship without bytecode");
        }
    }

    /** The image's Python module directories: /usr/lib/python3*, /usr/local/lib/python3*. */
    private List<String> pythonDirs() throws IOException {
        List<String> dirs = new ArrayList<>();
        if (!Files.exists(root.resolve("/usr/bin/python3"))) return dirs;
        for (String parent : List.of("/usr/lib", "/usr/local/lib")) {
            Path p = root.resolve(parent);
            if (!Files.isDirectory(p)) continue;
            try (DirectoryStream<Path> pythons = Files.newDirectoryStream(p, "python3*")) {
                for (Path d : pythons) {
                    if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) dirs.add(root.guestPathOf(d));
                }
            }
        }
        dirs.sort(String::compareTo);
        return dirs;
    }

    /**
     * Files owned by a uid or gid the image does not know (npm and pip unpack archives with their
     * authors' ids) become root's, so the owner never depends on where a tarball was made.
     */
    private void owners() throws IOException {
        Set<Integer> uids = ids("/etc/passwd");
        Set<Integer> gids = ids("/etc/group");
        Files.walkFileTree(root.dir(), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                fix(d);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                fix(file);
                return FileVisitResult.CONTINUE;
            }

            private void fix(Path p) throws IOException {
                Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
                if (!uids.contains((Integer) a.get("uid"))) Files.setAttribute(p, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
                if (!gids.contains((Integer) a.get("gid"))) Files.setAttribute(p, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
            }
        });
    }

    private Set<Integer> ids(String guestFile) throws IOException {
        Set<Integer> ids = new HashSet<>();
        ids.add(0);
        Path file = root.resolve(guestFile);
        if (!Files.isRegularFile(file)) return ids;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split(":");
            if (f.length > 2) {
                try {
                    ids.add(Integer.parseInt(f[2]));
                } catch (NumberFormatException ignored) {
                    // a malformed line names no id
                }
            }
        }
        return ids;
    }

    /** Every file, directory and link gets SOURCE_DATE_EPOCH (links too: touch -h). */
    private void timestamps() throws IOException, InterruptedException {
        log.run(new ExternalCommand(List.of("find", root.dir().toString(), "-exec", "touch", "--no-dereference",
                "--date=@" + spec.sourceDateEpoch(), "{}", "+"), root.dir(), Map.of()));
    }
}
