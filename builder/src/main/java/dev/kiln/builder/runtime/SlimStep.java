package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Makes the image small (docs/runtimes.md, "Size"): removes documentation, translations,
 * package-manager data and the spec's own paths, and counts the bytes each reduction removed, for
 * the manifest. Runs after CaptureSbom, which needs dpkg's database that this step deletes.
 */
final class SlimStep implements BuildStep {

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
    private final Map<String, Long> removed = new LinkedHashMap<>();

    SlimStep(RuntimeSpec spec, RootFs root, BuildLog log) {
        this.spec = spec;
        this.root = root;
        this.log = log;
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
    public void run(StepProgress progress) throws IOException {
        RuntimeSpec.Slim slim = spec.slim();
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
