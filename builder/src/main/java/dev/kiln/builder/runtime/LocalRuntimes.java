package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.catalogue.RuntimeKind;
import dev.kiln.core.catalogue.RuntimeOrigin;
import dev.kiln.core.catalogue.RuntimeStatus;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.PublishException;
import dev.kiln.store.records.StoreRecord;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The runtimes of this machine, for {@code kiln runtime list} next to the official catalogue:
 * those published here ({@code kiln runtime publish}, recorded one file per publication in
 * {@code <kiln home>/runtimes/published/<message hash>.json}) and those built here but not
 * published (from the image cache, listed as {@code built/<name>} under their image hash; the
 * newest build of each name).
 */
public final class LocalRuntimes {

    /** Names of published runtimes: what --name accepts. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,79}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /**
     * One publication.
     *
     * @param name        the name it lists under
     * @param messageHash the STORE message's hash: what a program's {@code runtime.ref} names
     * @param imageSha256 the image file's hash (the STORE message's {@code item_hash})
     * @param amends      the message this publication amends, or null
     * @param filesystem  {@code squashfs} or {@code ext4}; for a disk image its format: {@code disk}
     *                    (raw) or {@code qcow2}
     * @param description from the image's manifest, if it had one
     * @param specHash    from the manifest, or null
     * @param kind        the catalogue kind ({@link RuntimeKind#id()}); null in records written before
     *                    kinds were recorded, which were all function runtimes
     */
    public record Publication(String name, String messageHash, String imageSha256, String amends, long sizeBytes,
                              String filesystem, String description, String specHash, String publishedAt, String kind) {

        /** What the runtime is for. */
        public RuntimeKind runtimeKind() {
            return kind == null ? RuntimeKind.FUNCTION : RuntimeKind.fromId(kind);
        }

        /** For a disk image, the format QEMU opens it with ({@code raw} or {@code qcow2}); else null. */
        public String diskFormat() {
            return switch (filesystem) {
                case DISK -> "raw";
                case QCOW2 -> "qcow2";
                default -> null;
            };
        }
    }

    /** {@link Publication#filesystem()} of a raw whole-disk image (partition table at sector 0). */
    public static final String DISK = RuntimeSpec.Output.DISK;
    /** {@link Publication#filesystem()} of a qcow2 disk image. */
    public static final String QCOW2 = "qcow2";

    private final Path home;
    private final Path published;

    /** @param kilnHome the Kiln home (its {@code runtimes/} directory holds what is listed) */
    public LocalRuntimes(Path kilnHome) {
        this.home = kilnHome;
        this.published = kilnHome.resolve("runtimes").resolve("published");
    }

    /**
     * Puts {@code image} into the store through {@code publisher} (a STORE message is recorded) and
     * lists it under {@code name}. The image must be a squashfs or ext4 filesystem; if a
     * {@code manifest.json} lies beside it (as in the builder's cache), the image must match the
     * SHA-256 it records, and the name defaults to {@code local/<manifest name>}.
     *
     * @param name   the name to list it under, or null for the default
     * @param amends the STORE message of the previous version, or null
     * @throws PublishException if the file is not a runtime image, does not match its manifest,
     *                          or the amend is refused
     */
    public Publication publish(LocalPublisher publisher, Path image, String name, ItemHash amends) throws IOException {
        if (!Files.isRegularFile(image)) {
            throw new PublishException("no image at " + image + " (give the path of a .squashfs, .ext4 or disk image file;"
                    + " 'kiln runtime build' prints it)");
        }
        String filesystem = filesystemOf(image);
        Optional<RuntimeManifest> manifest = manifestBeside(image);
        RuntimeKind kind = kindOf(filesystem, manifest);
        ItemHash sha256 = ItemHash.sha256Of(image);
        if (manifest.isPresent() && !manifest.get().image().sha256().equals(sha256.value())) {
            throw new PublishException(image + " does not match its manifest (SHA-256 " + sha256.shortForm()
                    + "…, manifest.json records " + manifest.get().image().sha256() + "): it was changed after the build;"
                    + " build it again with 'kiln runtime build'");
        }
        String listed = name != null ? name
                : "local/" + manifest.map(RuntimeManifest::name).orElse(baseName(image));
        if (!NAME.matcher(listed).matches()) {
            throw new PublishException("--name must be letters, digits, '.', '-', '_' or '/' (at most 80), got '" + listed + "'");
        }
        StoreRecord record = publisher.publish(image, amends);
        Publication p = new Publication(listed, record.messageHash().value(), record.fileHash().value(),
                amends == null ? null : amends.value(), Files.size(image), filesystem,
                manifest.map(RuntimeManifest::description).orElse(""), manifest.map(RuntimeManifest::specHash).orElse(null),
                Instant.now().toString(), kind.id());
        Files.createDirectories(published);
        Path file = published.resolve(p.messageHash() + ".json");
        Path temp = Files.createTempFile(published, ".publication-", ".part");
        Files.writeString(temp, JSON.writeValueAsString(p) + "\n");
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return p;
    }

    /** The publications recorded here, oldest first. */
    public List<Publication> publications() throws IOException {
        if (!Files.isDirectory(published)) return List.of();
        List<Publication> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(published)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                try {
                    out.add(JSON.readValue(f.toFile(), Publication.class));
                } catch (IOException e) {
                    // a damaged record lists as nothing; the STORE message itself is in the store's database
                }
            }
        }
        out.sort(Comparator.comparing(Publication::publishedAt));
        return out;
    }

    /** Published runtimes, then images built here and not published, as catalogue entries. */
    public List<RuntimeEntry> entries() throws IOException {
        List<RuntimeEntry> entries = new ArrayList<>();
        Set<String> publishedImages = new HashSet<>();
        for (Publication p : publications()) {
            publishedImages.add(p.imageSha256());
            String title = (p.description() == null || p.description().isEmpty() ? p.name() : p.description())
                    + (p.amends() == null ? "" : " (amends " + ItemHash.parse(p.amends()).shortForm() + ")");
            entries.add(new RuntimeEntry(p.name(), title, ItemHash.parse(p.messageHash()), p.runtimeKind(),
                    p.filesystem(), RuntimeStatus.SUPPORTED, "", List.of(), Optional.empty(), RuntimeOrigin.LOCAL));
        }
        Set<String> builtNames = new HashSet<>();
        for (BuiltRuntime b : new RuntimeBuilder(home, BuildListener.SILENT).list()) {
            // Most recently built or reused first: an older build of a spec that has changed since is not listed.
            if (publishedImages.contains(b.imageHash().value()) || !builtNames.add(b.name())) continue;
            entries.add(new RuntimeEntry("built/" + b.name(), "built here, not published ('kiln runtime publish "
                    + b.image() + "')", b.imageHash(), builtKind(b), b.filesystem(), RuntimeStatus.SUPPORTED,
                    "", List.of(), Optional.empty(), RuntimeOrigin.LOCAL));
        }
        return entries;
    }

    /**
     * squashfs ("hsqs" at 0), qcow2 ("QFI\xfb" at 0), ext4 (0xEF53 at 1080) or a raw disk (the
     * boot signature 0x55AA ending sector 0, as an MBR or GPT's protective MBR has); anything else
     * is refused. Only the first bytes are read: {@code kiln runtime import} checks disk images
     * through and through ({@code dev.kiln.builder.cloudimage}).
     */
    static String filesystemOf(Path image) throws IOException {
        byte[] head = new byte[1082];
        int n;
        try (InputStream in = Files.newInputStream(image)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 4 && head[0] == 'h' && head[1] == 's' && head[2] == 'q' && head[3] == 's') return RuntimeSpec.Output.SQUASHFS;
        if (n >= 4 && head[0] == 'Q' && head[1] == 'F' && head[2] == 'I' && (head[3] & 0xff) == 0xfb) return QCOW2;
        if (n >= 1082 && (head[1080] & 0xff) == 0x53 && (head[1081] & 0xff) == 0xef) return RuntimeSpec.Output.EXT4;
        if (n >= 512 && (head[510] & 0xff) == 0x55 && (head[511] & 0xff) == 0xaa) return DISK;
        throw new PublishException(image + " is not a runtime image (neither a squashfs or ext4 filesystem nor a disk"
                + " image); build one with 'kiln runtime build'");
    }

    /** A disk is an instance's disk image; a filesystem is what its build's manifest says, else a function runtime. */
    private static RuntimeKind kindOf(String filesystem, Optional<RuntimeManifest> manifest) {
        if (filesystem.equals(DISK) || filesystem.equals(QCOW2)) return RuntimeKind.QEMU_DISK_IMAGE;
        return manifest.map(m -> m.spec() == null ? null : m.spec().path("kind").asText(null))
                .filter(k -> k.equals(RuntimeSpec.INSTANCE_ROOTFS)).map(RuntimeKind::fromId).orElse(RuntimeKind.FUNCTION);
    }

    private static RuntimeKind builtKind(BuiltRuntime b) {
        return b.filesystem().equals(DISK) ? RuntimeKind.QEMU_DISK_IMAGE : RuntimeKind.FUNCTION;
    }

    private static Optional<RuntimeManifest> manifestBeside(Path image) throws IOException {
        Path manifest = image.toAbsolutePath().getParent().resolve(RuntimeManifest.FILE_NAME);
        if (!Files.isRegularFile(manifest)) return Optional.empty();
        RuntimeManifest m = RuntimeManifest.read(manifest);
        if (m.image() == null || !image.getFileName().toString().equals(m.image().file())) return Optional.empty();
        return Optional.of(m);
    }

    private static String baseName(Path image) {
        String f = image.getFileName().toString();
        int dot = f.lastIndexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }
}
