package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.KeyLock;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Bootstrapped Debian bases under {@code <kiln home>/runtimes/bases/}, shared by every spec of the
 * same suite and mirror: {@code bookworm-5d1c0a2b-9f3e11aa/} holds {@code rootfs/} (debootstrap
 * minbase, without downloaded .debs) and {@code base.json}. The name carries the hash of (suite,
 * mirror, recipe) and of the archive's InRelease, so a base is rebuilt when the archive changes.
 * Like image entries, a base appears only by an atomic rename.
 */
final class BaseCache {

    /** Bumped when the bootstrap recipe changes what a base contains. */
    static final int BASE_RECIPE = 1;
    static final String ROOTFS = "rootfs";
    static final String META = "base.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** What base.json says. */
    record BaseInfo(String suite, String mirror, String architecture, String releaseSha256, String createdAt,
                    long bootstrapMillis) {
    }

    /** A cached base. */
    record Base(Path dir, BaseInfo info) {
        Path rootfs() {
            return dir.resolve(ROOTFS);
        }
    }

    private final Path root;
    private final BuildCache layout;

    BaseCache(Path root) {
        this.root = root;
        this.layout = new BuildCache(root);
    }

    Path root() {
        return root;
    }

    /** {@code bookworm-5d1c0a2b}: the part of the name that does not depend on the archive's state. */
    static String family(RuntimeSpec.Base base, String architecture) {
        String id = "base " + BASE_RECIPE + "\0" + base.suite() + "\0" + base.mirror() + "\0" + architecture;
        return base.suite() + "-" + ItemHash.sha256Of(id.getBytes(StandardCharsets.UTF_8)).value().substring(0, 8);
    }

    /** The directory name for a family at a release; "unknown" when the archive could not be asked. */
    static String name(String family, Optional<ItemHash> release) {
        return family + "-" + release.map(r -> r.value().substring(0, 8)).orElse("unknown");
    }

    /**
     * The base for {@code name} if it exists; when the archive's state is unknown (offline), the
     * newest base of the family, since nothing newer could be bootstrapped anyway.
     */
    Optional<Base> find(String family, Optional<ItemHash> release) throws IOException {
        if (release.isPresent()) return read(root.resolve(name(family, release)));
        if (!Files.isDirectory(root)) return Optional.empty();
        try (Stream<Path> dirs = Files.list(root)) {
            List<Path> candidates = dirs.filter(d -> d.getFileName().toString().startsWith(family + "-"))
                    .filter(d -> Files.isRegularFile(d.resolve(META)))
                    .sorted(Comparator.comparing(BaseCache::modified).reversed()).toList();
            for (Path c : candidates) {
                Optional<Base> b = read(c);
                if (b.isPresent()) return b;
            }
            return Optional.empty();
        }
    }

    private static Optional<Base> read(Path dir) {
        Path meta = dir.resolve(META);
        if (!Files.isRegularFile(meta) || !Files.isDirectory(dir.resolve(ROOTFS))) return Optional.empty();
        try {
            return Optional.of(new Base(dir, JSON.readValue(meta.toFile(), BaseInfo.class)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p.resolve(META)).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    KeyLock lock(String name) throws IOException {
        return layout.lock(name);
    }

    Path workspace(String name) {
        return layout.workspace(name);
    }

    /** Writes base.json into a finished workspace and renames it into place; older bases of the family go. */
    Base commit(Path workspace, String name, String family, BaseInfo info) throws IOException {
        Files.writeString(workspace.resolve(META), JSON.writeValueAsString(info) + "\n");
        Path entry = layout.commit(workspace, name);
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path old : dirs.filter(d -> d.getFileName().toString().startsWith(family + "-") && !d.equals(entry)).toList()) {
                // Under the old base's lock: a build copying from it holds that lock until it is done.
                try (KeyLock _ = lock(old.getFileName().toString())) {
                    FileTrees.delete(old);
                }
            }
        }
        return new Base(entry, info);
    }
}
