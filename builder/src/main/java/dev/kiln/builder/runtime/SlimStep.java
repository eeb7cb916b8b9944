package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.FileTrees;

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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Makes the image small (docs/runtimes.md, "Size"): removes the files of packages nothing needs at
 * run time, documentation, translations, package-manager data, and the spec's own paths. Counts
 * the bytes each reduction removed, for the manifest. Runs after CaptureSbom, which needs dpkg's
 * database that this step deletes.
 */
final class SlimStep implements RuntimeStep {

    /** Documentation and manuals; copyright files stay (Debian's licences require shipping them). */
    private static final List<String> DOC_DIRS = List.of("/usr/share/man", "/usr/share/info", "/usr/share/lintian",
            "/usr/share/linda", "/usr/share/doc-base", "/usr/share/bug", "/usr/share/bash-completion", "/usr/share/menu");
    private static final List<String> LOCALE_DIRS = List.of("/usr/share/locale", "/usr/share/i18n");
    /** Locales kept under /usr/lib/locale: the C.UTF-8 locale Python and most tools use. */
    private static final Set<String> KEPT_LOCALES = Set.of("C.utf8", "C.UTF-8");
    private static final List<String> PACKAGE_DATA = List.of("/var/lib/apt", "/var/cache/apt", "/var/cache/debconf",
            "/var/lib/dpkg", "/var/cache/ldconfig", "/etc/apt", "/var/lib/ucf");

    private final RuntimeSpec spec;
    private final RootFs root;
    private final BuildLog log;
    private final Supplier<DpkgStatus> dpkg;
    private final Map<String, Long> removed = new LinkedHashMap<>();

    SlimStep(RuntimeSpec spec, RootFs root, BuildLog log, Supplier<DpkgStatus> dpkg) {
        this.spec = spec;
        this.root = root;
        this.log = log;
        this.dpkg = dpkg;
    }

    @Override
    public String name() {
        return "Slim";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(2);
    }

    /** Bytes removed by each reduction, in the order applied. */
    Map<String, Long> removedBytes() {
        return Map.copyOf(removed);
    }

    @Override
    public void run(Progress progress) throws IOException {
        RuntimeSpec.Slim slim = spec.slim();
        if (!slim.removePackages().isEmpty()) {
            progress.report(0.05, "remove packages " + String.join(" ", slim.removePackages()));
            removePackages(slim.removePackages());
        }
        if (slim.docs()) {
            progress.report(0.3, "documentation");
            long bytes = removeDocs();
            for (String d : DOC_DIRS) bytes += delete(d);
            count("docs", bytes);
        }
        if (slim.locales()) {
            progress.report(0.5, "locales");
            long bytes = 0;
            for (String d : LOCALE_DIRS) bytes += delete(d);
            bytes += removeLocales();
            count("locales", bytes);
        }
        if (!slim.removePaths().isEmpty()) {
            progress.report(0.7, "remove_paths");
            long bytes = 0;
            for (String p : slim.removePaths()) bytes += deleteGlob(p);
            count("remove_paths", bytes);
        }
        if (slim.packageData()) {
            progress.report(0.9, "apt and dpkg data");
            long bytes = 0;
            for (String d : PACKAGE_DATA) bytes += delete(d);
            count("package_data", bytes);
        }
    }

    private void count(String what, long bytes) {
        removed.merge(what, bytes, Long::sum);
        log.line(String.format(Locale.ROOT, "slim: %s removed %.1f MB", what, bytes / 1e6));
    }

    /**
     * Deletes the files of {@code packages}, refusing if a package that stays needs one of them:
     * its files would be gone while it still expects them.
     */
    private void removePackages(List<String> packages) throws IOException {
        DpkgStatus status = dpkg.get();
        Set<String> names = new LinkedHashSet<>();
        for (String p : packages) {
            if (!status.packages().containsKey(p)) {
                log.line("slim: " + p + " is not installed; nothing to remove");
                continue;
            }
            names.add(p);
        }
        Map<String, String> broken = status.dependentsOf(names);
        if (!broken.isEmpty()) {
            StringBuilder why = new StringBuilder();
            broken.forEach((pkg, need) -> why.append(why.isEmpty() ? "" : "; ").append(pkg).append(" needs ").append(need));
            throw new IOException("slim.remove_packages would break packages that stay: " + why
                    + ". Remove those names from slim.remove_packages (or the packages that need them from packages.apt)");
        }
        Set<String> keptFiles = new HashSet<>();
        for (String kept : status.packages().keySet()) {
            if (!names.contains(kept)) keptFiles.addAll(fileList(kept));
        }
        for (String p : names) {
            long bytes = 0;
            List<String> files = new ArrayList<>(fileList(p));
            // Longest paths first, so a directory is looked at after its content.
            files.sort((a, b) -> b.length() - a.length());
            for (String f : files) {
                if (keptFiles.contains(f)) continue;
                Path host = root.resolve(f);
                // A link to a directory is structure (merged /usr's /bin -> usr/bin), never a package's file.
                if (Files.isSymbolicLink(host) && Files.isDirectory(root.followed(f), LinkOption.NOFOLLOW_LINKS)) continue;
                if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                    try (DirectoryStream<Path> d = Files.newDirectoryStream(host)) {
                        if (d.iterator().hasNext()) continue;
                    }
                    Files.delete(host);
                } else if (Files.exists(host, LinkOption.NOFOLLOW_LINKS)) {
                    bytes += Files.isRegularFile(host, LinkOption.NOFOLLOW_LINKS) ? Files.size(host) : 0;
                    Files.delete(host);
                }
            }
            count("package " + p, bytes);
        }
    }

    /** The paths a package installed, from dpkg's info/&lt;name&gt;.list (or &lt;name&gt;:amd64.list). */
    private List<String> fileList(String pkg) throws IOException {
        for (String name : List.of(pkg + ".list", pkg + ":amd64.list")) {
            Path list = root.resolve("/var/lib/dpkg/info/" + name);
            if (Files.isRegularFile(list)) {
                return Files.readAllLines(list, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.startsWith("/") && !l.equals("/.") && !l.equals("/")).toList();
            }
        }
        return List.of();
    }

    /** /usr/share/doc without the copyright files. */
    private long removeDocs() throws IOException {
        Path docs = root.resolve("/usr/share/doc");
        if (!Files.isDirectory(docs, LinkOption.NOFOLLOW_LINKS)) return 0;
        long[] bytes = {0};
        Files.walkFileTree(docs, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (file.getFileName().toString().equals("copyright")) return FileVisitResult.CONTINUE;
                if (attrs.isRegularFile()) bytes[0] += attrs.size();
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                if (!dir.equals(docs)) {
                    try (DirectoryStream<Path> d = Files.newDirectoryStream(dir)) {
                        if (!d.iterator().hasNext()) Files.delete(dir);
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return bytes[0];
    }

    private long removeLocales() throws IOException {
        Path dir = root.resolve("/usr/lib/locale");
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return 0;
        long bytes = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                if (KEPT_LOCALES.contains(e.getFileName().toString())) continue;
                bytes += FileTrees.size(e);
                FileTrees.delete(e);
            }
        }
        return bytes;
    }

    private long delete(String guestPath) throws IOException {
        Path host = root.resolve(guestPath);
        long bytes = FileTrees.size(host);
        FileTrees.delete(host);
        return bytes;
    }

    /** A path whose last component may be a glob ({@code /usr/lib/x86_64-linux-gnu/gconv/*.so}). */
    private long deleteGlob(String guestPath) throws IOException {
        int slash = guestPath.lastIndexOf('/');
        String last = guestPath.substring(slash + 1);
        if (!last.contains("*") && !last.contains("?") && !last.contains("[")) return delete(guestPath);
        Path parent = root.resolve(slash == 0 ? "/" : guestPath.substring(0, slash));
        if (!Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) return 0;
        long bytes = 0;
        try (DirectoryStream<Path> matches = Files.newDirectoryStream(parent, last)) {
            for (Path m : matches) {
                bytes += FileTrees.size(m);
                FileTrees.delete(m);
            }
        }
        return bytes;
    }
}
