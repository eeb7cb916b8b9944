package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Deletes the packages the spec lists in {@code slim.remove_packages}: files nothing needs at run
 * time (perl-base, apt, dpkg's keyrings…). Refuses if a package that stays declares that it needs
 * one of them. dpkg's database is updated to match, so the SBOM captured next lists exactly what
 * the image ships. Files are deleted directly rather than through {@code dpkg --purge}, whose
 * maintainer scripts would need the very tools being removed.
 */
final class RemovePackagesStep implements BuildStep {

    private static final String STATUS = "/var/lib/dpkg/status";
    private static final String INFO = "/var/lib/dpkg/info";

    private final RuntimeSpec spec;
    private final RootFs root;
    private final BuildLog log;
    private final Map<String, Long> removed = new LinkedHashMap<>();

    RemovePackagesStep(RuntimeSpec spec, RootFs root, BuildLog log) {
        this.spec = spec;
        this.root = root;
        this.log = log;
    }

    @Override
    public String name() {
        return "RemovePackages";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMillis(500);
    }

    /** Bytes removed per package ({@code package perl-base}). */
    Map<String, Long> removedBytes() {
        return Map.copyOf(removed);
    }

    @Override
    public void run(StepProgress progress) throws IOException {
        Path statusFile = root.resolve(STATUS);
        String statusText = Files.readString(statusFile, StandardCharsets.UTF_8);
        DpkgStatus status = DpkgStatus.parse(statusText);
        Set<String> names = new LinkedHashSet<>();
        for (String p : spec.slim().removePackages()) {
            if (status.packages().containsKey(p)) names.add(p);
            else log.line("remove_packages: " + p + " is not installed; nothing to remove");
        }
        if (names.isEmpty()) return;
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
        int done = 0;
        for (String p : names) {
            progress.report((double) done++ / names.size(), p);
            removed.put("package " + p, deleteFiles(fileList(p), keptFiles));
            deleteInfo(p);
            log.line(String.format(Locale.ROOT, "remove_packages: %s removed %.1f MB", p, removed.get("package " + p) / 1e6));
        }
        Files.writeString(statusFile, withoutStanzas(statusText, names), StandardCharsets.UTF_8);
    }

    private long deleteFiles(List<String> files, Set<String> keptFiles) throws IOException {
        long bytes = 0;
        List<String> sorted = new ArrayList<>(files);
        // Longest paths first, so a directory is looked at after its content.
        sorted.sort((a, b) -> b.length() - a.length());
        for (String f : sorted) {
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
        return bytes;
    }

    /** The paths a package installed, from dpkg's info/&lt;name&gt;.list (or &lt;name&gt;:amd64.list). */
    private List<String> fileList(String pkg) throws IOException {
        for (String name : List.of(pkg + ".list", pkg + ":amd64.list")) {
            Path list = root.resolve(INFO + "/" + name);
            if (Files.isRegularFile(list)) {
                return Files.readAllLines(list, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.startsWith("/") && !l.equals("/.") && !l.equals("/")).toList();
            }
        }
        return List.of();
    }

    /** dpkg's per-package files: pkg.list, pkg.md5sums, pkg.postinst… (and pkg:amd64.*). */
    private void deleteInfo(String pkg) throws IOException {
        Path info = root.resolve(INFO);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(info)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (n.startsWith(pkg + ".") || n.startsWith(pkg + ":")) Files.delete(f);
            }
        }
    }

    /** The status file without the stanzas of {@code names}, everything else byte for byte. */
    static String withoutStanzas(String status, Set<String> names) {
        StringBuilder out = new StringBuilder();
        for (String stanza : status.split("\n\n")) {
            String trimmed = stanza.strip();
            if (trimmed.isEmpty()) continue;
            String first = trimmed.lines().filter(l -> l.startsWith("Package:")).findFirst().orElse("");
            if (names.contains(first.substring(first.indexOf(':') + 1).strip())) continue;
            out.append(trimmed).append("\n\n");
        }
        return out.toString();
    }
}
