package dev.kiln.builder.runtime;

import dev.kiln.builder.kernel.StepTiming;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.KeyLock;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Built images under {@code <kiln home>/runtimes/images/}, one directory per {@link RuntimeKey}:
 * <pre>
 * images/
 *   minimal-3f2a9c0d1e4b/        a complete entry: minimal.squashfs, manifest.json, build.json
 *   minimal-3f2a9c0d1e4b.log     the full log of the build that made (or failed to make) it
 *   .minimal-3f2a9c0d1e4b.lock
 *   .build-minimal-3f2a9c0d1e4b/ workspace of a running (or killed) build
 * </pre>
 * An entry only appears by the atomic rename of a finished workspace output, so a build killed at
 * any moment leaves no half-written image; the next build of the key removes the workspace.
 */
final class RuntimeCache {

    private final Path root;

    RuntimeCache(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path entry(RuntimeKey key) {
        return root.resolve(key.directoryName());
    }

    Path logFile(RuntimeKey key) {
        return root.resolve(key.directoryName() + ".log");
    }

    RuntimeWorkspace workspace(RuntimeKey key) {
        return new RuntimeWorkspace(root.resolve(".build-" + key.directoryName()));
    }

    KeyLock lock(RuntimeKey key) throws IOException {
        return KeyLock.acquire(root.resolve("." + key.directoryName() + ".lock"));
    }

    /** A verified entry, or why there is none (null problem: simply not built yet). */
    record Lookup(BuiltRuntime runtime, String problem) {
        boolean hit() {
            return runtime != null;
        }
    }

    /**
     * Finds the entry and checks its image against the SHA-256 in its manifest (≈ 0.1 s for
     * 40 MB), so a truncated or altered image is rebuilt, never booted.
     */
    Lookup lookup(RuntimeKey key) {
        Path entry = entry(key);
        if (!Files.isDirectory(entry)) return new Lookup(null, null);
        try {
            RuntimeManifest manifest = RuntimeManifest.read(entry.resolve(RuntimeManifest.FILE_NAME));
            Path image = entry.resolve(manifest.image().file());
            ItemHash actual = ItemHash.sha256Of(image);
            if (!actual.value().equals(manifest.image().sha256())) {
                return new Lookup(null, "the cached image's SHA-256 is " + actual.shortForm() + "…, its manifest records "
                        + manifest.image().sha256());
            }
            BuildRecord record = BuildRecord.read(entry.resolve(BuildRecord.FILE_NAME));
            return new Lookup(toBuiltRuntime(entry, manifest, record, true), null);
        } catch (NoSuchFileException e) {
            return new Lookup(null, "the cached entry lacks " + e.getFile());
        } catch (IOException | RuntimeException e) {
            return new Lookup(null, "the cached entry is unreadable: " + e.getMessage());
        }
    }

    static BuiltRuntime toBuiltRuntime(Path entry, RuntimeManifest manifest, BuildRecord record, boolean fromCache) {
        List<StepTiming> steps = new ArrayList<>();
        record.stepMillis().forEach((step, millis) -> steps.add(new StepTiming(step, Duration.ofMillis(millis))));
        return new BuiltRuntime(manifest.name(), entry.resolve(manifest.image().file()), ItemHash.parse(manifest.image().sha256()),
                manifest.image().sizeBytes(), manifest.image().filesystem(), entry.resolve(RuntimeManifest.FILE_NAME),
                fromCache, ItemHash.parse(manifest.specHash()), Duration.ofMillis(record.buildMillis()), steps);
    }

    /** Moves a finished output directory into place, replacing a corrupt entry; atomic. */
    Path commit(Path output, RuntimeKey key) throws IOException {
        Path entry = entry(key);
        if (Files.exists(entry)) {
            Path discarded = root.resolve(".discarded-" + key.directoryName() + "-" + System.nanoTime());
            Files.move(entry, discarded, StandardCopyOption.ATOMIC_MOVE);
            FileTrees.delete(discarded);
        }
        Files.move(output, entry, StandardCopyOption.ATOMIC_MOVE);
        return entry;
    }

    /** Every complete entry's manifest directory, for {@code kiln runtime list}. */
    List<Path> entries() throws IOException {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> Files.isRegularFile(p.resolve(RuntimeManifest.FILE_NAME)))
                    .sorted().toList();
        }
    }
}
