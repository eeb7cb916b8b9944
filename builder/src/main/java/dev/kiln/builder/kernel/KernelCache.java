package dev.kiln.builder.kernel;

import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.KeyLock;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * Built kernels under {@code <kiln home>/kernels/}, one directory per {@link KernelCacheKey}:
 * <pre>
 * kernels/
 *   6.1.192-2-3f2a9c0d1e4b/     a complete entry: vmlinux, config, kernel.json
 *   6.1.192-2-3f2a9c0d1e4b.log  the full log of the build that made (or failed to make) it
 *   .6.1.192-2-3f2a9c0d1e4b.lock
 *   .build-6.1.192-2-3f2a9c0d1e4b/   workspace of a running (or killed) build
 * </pre>
 * An entry directory only ever appears by an atomic rename of a finished workspace output, so a
 * build killed at any moment leaves no half-written entry; its workspace is removed by the next
 * build of the same key, which holds the key's lock.
 */
final class KernelCache {

    static final String VMLINUX = "vmlinux";
    static final String CONFIG = "config";

    private final Path root;

    KernelCache(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path entry(KernelCacheKey key) {
        return root.resolve(key.directoryName());
    }

    Path logFile(KernelCacheKey key) {
        return root.resolve(key.directoryName() + ".log");
    }

    BuildWorkspace workspace(KernelCacheKey key) {
        return new BuildWorkspace(root.resolve(".build-" + key.directoryName()));
    }

    /** The result of looking for an entry: a verified kernel, or why there is none. */
    record Lookup(GuestKernel kernel, String problem) {
        boolean hit() {
            return kernel != null;
        }
    }

    /**
     * Finds the entry for {@code key} and checks the vmlinux against the SHA-256 recorded when it
     * was built (≈ 0.1 s for 20 MB), so a truncated or altered kernel is rebuilt, never booted.
     */
    Lookup lookup(KernelCacheKey key) {
        Path entry = entry(key);
        if (!Files.isDirectory(entry)) return new Lookup(null, null);
        try {
            KernelMetadata meta = KernelMetadata.read(entry.resolve(KernelMetadata.FILE_NAME));
            Path vmlinux = entry.resolve(VMLINUX);
            Path config = entry.resolve(CONFIG);
            if (!Files.isRegularFile(config)) return new Lookup(null, "the cached entry has no config");
            ItemHash actual = ItemHash.sha256Of(vmlinux);
            if (!actual.value().equals(meta.vmlinuxSha256())) {
                return new Lookup(null, "the cached vmlinux's SHA-256 is " + actual.shortForm()
                        + "…, kernel.json records " + meta.vmlinuxSha256());
            }
            return new Lookup(toGuestKernel(entry, meta, true), null);
        } catch (NoSuchFileException e) {
            return new Lookup(null, "the cached entry lacks " + e.getFile());
        } catch (IOException | RuntimeException e) {
            return new Lookup(null, "the cached entry is unreadable: " + e.getMessage());
        }
    }

    static GuestKernel toGuestKernel(Path entry, KernelMetadata meta, boolean fromCache) {
        List<StepTiming> steps = meta.stepMillis().entrySet().stream()
                .map(e -> new StepTiming(e.getKey(), Duration.ofMillis(e.getValue())))
                .toList();
        return new GuestKernel(entry.resolve(VMLINUX), entry.resolve(CONFIG), ItemHash.parse(meta.vmlinuxSha256()),
                meta.vmlinuxBytes(), meta.sourceVersion(), meta.kernelRelease(), meta.configHash(),
                Duration.ofMillis(meta.buildMillis()), steps, fromCache);
    }

    /**
     * Moves a finished output directory into place as the entry for {@code key}, replacing a
     * corrupt one. The rename is atomic: readers see the old entry, no entry, or the new one.
     */
    Path commit(Path output, KernelCacheKey key) throws IOException {
        Path entry = entry(key);
        if (Files.exists(entry)) {
            Path discarded = root.resolve(".discarded-" + key.directoryName() + "-" + System.nanoTime());
            Files.move(entry, discarded, StandardCopyOption.ATOMIC_MOVE);
            FileTrees.delete(discarded);
        }
        Files.move(output, entry, StandardCopyOption.ATOMIC_MOVE);
        return entry;
    }

    /**
     * The compile-step count of the most recent entry, the best estimate of the next build's
     * count (configs differ by a few percent at most).
     */
    OptionalInt lastCompileLines() {
        if (!Files.isDirectory(root)) return OptionalInt.empty();
        try (Stream<Path> entries = Files.list(root)) {
            return entries.map(e -> e.resolve(KernelMetadata.FILE_NAME))
                    .filter(Files::isRegularFile)
                    .max(Comparator.comparing(KernelCache::modified))
                    .map(KernelCache::compileLinesOf)
                    .filter(n -> n > 0)
                    .map(OptionalInt::of).orElse(OptionalInt.empty());
        } catch (IOException e) {
            return OptionalInt.empty();
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static int compileLinesOf(Path metadata) {
        try {
            return KernelMetadata.read(metadata).compileLines();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Takes the key's build lock, waiting for another build of the same kernel (in this or
     * another process) to finish; the caller then looks the entry up again and usually finds it.
     */
    KeyLock lock(KernelCacheKey key) throws IOException {
        return KeyLock.acquire(root.resolve("." + key.directoryName() + ".lock"));
    }
}
