package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Records every package the image ships with its version (after RemovePackages, before Slim
 * deletes dpkg's database):
 * Debian packages from /var/lib/dpkg/status, pip packages from their dist-info directories, npm
 * packages from the global node_modules. The list goes into the manifest and, as
 * {@code /etc/kiln/packages}, into the image itself.
 */
final class CaptureSbomStep implements BuildStep {

    static final String IMAGE_SBOM_PATH = "/etc/kiln/packages";
    private static final Pattern DIST_INFO = Pattern.compile("(.+)-([^-]+)\\.dist-info");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RootFs root;
    private List<RuntimeManifest.SbomEntry> sbom;

    CaptureSbomStep(RootFs root) {
        this.root = root;
    }

    @Override
    public String name() {
        return "CaptureSbom";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMillis(300);
    }

    List<RuntimeManifest.SbomEntry> sbom() {
        if (sbom == null) throw new IllegalStateException("CaptureSbom has not run");
        return sbom;
    }

    @Override
    public void run(StepProgress progress) throws IOException {
        Path statusFile = root.resolve("/var/lib/dpkg/status");
        DpkgStatus status = DpkgStatus.parse(Files.readString(statusFile, StandardCharsets.UTF_8));
        List<RuntimeManifest.SbomEntry> entries = new ArrayList<>();
        status.packages().values().forEach(p -> entries.add(new RuntimeManifest.SbomEntry("deb", p.name(), p.version(),
                p.architecture(), p.source(), p.installedKib())));
        progress.report(0.5, "pip and npm packages");
        entries.addAll(pipPackages());
        entries.addAll(npmPackages());
        entries.sort(Comparator.comparing(RuntimeManifest.SbomEntry::type).thenComparing(RuntimeManifest.SbomEntry::name));
        sbom = List.copyOf(entries);

        StringBuilder text = new StringBuilder("# type\tname\tversion\tarchitecture\tsource\n");
        for (RuntimeManifest.SbomEntry e : sbom) {
            text.append(e.type()).append('\t').append(e.name()).append('\t').append(e.version()).append('\t')
                    .append(e.architecture()).append('\t').append(e.source()).append('\n');
        }
        Path target = root.resolve(IMAGE_SBOM_PATH);
        Images.createDirectories(root, target.getParent());
        Files.writeString(target, text);
        Images.setMode(target, 0644);
    }

    private List<RuntimeManifest.SbomEntry> pipPackages() throws IOException {
        List<RuntimeManifest.SbomEntry> out = new ArrayList<>();
        Path lib = root.resolve("/usr/local/lib");
        if (!Files.isDirectory(lib)) return out;
        try (DirectoryStream<Path> pythons = Files.newDirectoryStream(lib, "python3*")) {
            for (Path python : pythons) {
                Path site = python.resolve("dist-packages");
                if (!Files.isDirectory(site)) continue;
                try (DirectoryStream<Path> infos = Files.newDirectoryStream(site, "*.dist-info")) {
                    for (Path info : infos) {
                        Matcher m = DIST_INFO.matcher(info.getFileName().toString());
                        if (m.matches()) out.add(new RuntimeManifest.SbomEntry("pip", m.group(1), m.group(2), "", "", 0));
                    }
                }
            }
        }
        return out;
    }

    private List<RuntimeManifest.SbomEntry> npmPackages() throws IOException {
        List<RuntimeManifest.SbomEntry> out = new ArrayList<>();
        Path modules = root.resolve("/usr/local/lib/node_modules");
        if (!Files.isDirectory(modules)) return out;
        List<Path> packageDirs = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(modules)) {
            for (Path d : dirs) {
                if (d.getFileName().toString().startsWith("@")) {
                    try (DirectoryStream<Path> scoped = Files.newDirectoryStream(d)) {
                        scoped.forEach(packageDirs::add);
                    }
                } else {
                    packageDirs.add(d);
                }
            }
        }
        for (Path d : packageDirs) {
            Path manifest = d.resolve("package.json");
            if (!Files.isRegularFile(manifest)) continue;
            JsonNode json = JSON.readTree(manifest.toFile());
            out.add(new RuntimeManifest.SbomEntry("npm", json.path("name").asText(d.getFileName().toString()),
                    json.path("version").asText(""), "", "", 0));
        }
        return out;
    }
}
