package dev.kiln.builder.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json}, shipped beside every image: what the image is (spec hash, image SHA-256,
 * size), what it needs from the guest kernel, and its SBOM. It holds no timestamps or durations of
 * the build, so two builds of the same spec produce the same manifest byte for byte (the build's
 * timings are in {@code build.json}).
 *
 * @param schema         format version of this file
 * @param name           the spec's name
 * @param description    the spec's description
 * @param specHash       SHA-256 of the spec's canonical JSON ({@link RuntimeSpec#hash()})
 * @param spec           the spec itself, canonical
 * @param image          the image file
 * @param base           the Debian base it was bootstrapped from
 * @param init           SHA-256 of init0 and init1 as installed
 * @param kernel         what a kernel must provide to boot the image
 * @param sbom           every installed package with its version (captured before dpkg's
 *                       database is stripped)
 * @param removedBytes   bytes removed by each size reduction, for docs/runtimes.md
 * @param sourceDateEpoch the timestamp every file in the image carries
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RuntimeManifest(int schema, String name, String description, String specHash, JsonNode spec,
                              Image image, Base base, Init init, Kernel kernel, List<SbomEntry> sbom,
                              Map<String, Long> removedBytes, long sourceDateEpoch) {

    public static final int SCHEMA = 1;
    public static final String FILE_NAME = "manifest.json";

    /**
     * @param file        the image's file name beside the manifest
     * @param sha256      its SHA-256 (an image cannot contain its own hash, so it is here)
     * @param sizeBytes   its size
     * @param filesystem  {@code squashfs} or {@code ext4}
     * @param compression the squashfs compressor, or {@code none}
     */
    public record Image(String file, String sha256, long sizeBytes, String filesystem, String compression) {
    }

    /**
     * @param suite          Debian suite
     * @param mirror         the archive
     * @param architecture   always x86_64
     * @param releaseSha256  SHA-256 of the suite's Release file when the base was bootstrapped:
     *                       which state of the archive the packages came from (null if unknown)
     */
    public record Base(String suite, String mirror, String architecture, String releaseSha256) {
    }

    /**
     * Kiln's init as installed: paths and SHA-256 of init0 and of init1 (the agent's package, hashed
     * as {@code GuestInit.init1()}, its one-file form: its fingerprint).
     */
    public record Init(String init0Path, String init0Sha256, String init1Path, String init1Sha256) {
    }

    /**
     * @param config      kernel options the image relies on (all built in)
     * @param commandLine the root-filesystem part of the kernel command line
     */
    public record Kernel(List<String> config, String commandLine) {
    }

    /**
     * One installed package.
     *
     * @param type           {@code deb}, {@code pip} or {@code npm}
     * @param installedKib   Debian's Installed-Size (KiB), 0 if unknown
     */
    public record SbomEntry(String type, String name, String version, String architecture, String source,
                            long installedKib) {
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public static RuntimeManifest read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), RuntimeManifest.class);
    }

    void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(this) + "\n");
    }

    /** Packages of one type ({@code deb}, {@code pip}, {@code npm}). */
    public List<SbomEntry> packages(String type) {
        return sbom.stream().filter(e -> e.type().equals(type)).toList();
    }
}
