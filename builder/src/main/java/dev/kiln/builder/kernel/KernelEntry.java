package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildCache.Lookup;
import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * One built kernel in the {@link BuildCache} under {@code <kiln home>/kernels/}, named by its
 * {@link KernelCacheKey} (e.g. {@code 6.1.192-2-3f2a9c0d1e4b/}): vmlinux, config, kernel.json.
 */
final class KernelEntry {

    static final String VMLINUX = "vmlinux";
    static final String CONFIG = "config";

    private KernelEntry() {
    }

    /**
     * Checks the vmlinux against the SHA-256 recorded when it was built (≈ 0.1 s for 20 MB), so a
     * truncated or altered kernel is rebuilt, never booted.
     */
    static Lookup<GuestKernel> read(Path entry) throws IOException {
        KernelMetadata meta = KernelMetadata.read(entry.resolve(KernelMetadata.FILE_NAME));
        Path vmlinux = entry.resolve(VMLINUX);
        Path config = entry.resolve(CONFIG);
        if (!Files.isRegularFile(config)) return Lookup.stale("the cached entry has no config");
        ItemHash actual = ItemHash.sha256Of(vmlinux);
        if (!actual.value().equals(meta.vmlinuxSha256())) {
            return Lookup.stale("the cached vmlinux's SHA-256 is " + actual.shortForm()
                    + "…, kernel.json records " + meta.vmlinuxSha256());
        }
        return Lookup.found(toGuestKernel(entry, meta, true));
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
     * The compile-step count of the most recent entry under {@code root}, the best estimate of
     * the next build's count (configs differ by a few percent at most).
     */
    static OptionalInt lastCompileLines(Path root) {
        if (!Files.isDirectory(root)) return OptionalInt.empty();
        try (Stream<Path> entries = Files.list(root)) {
            return entries.map(e -> e.resolve(KernelMetadata.FILE_NAME))
                    .filter(Files::isRegularFile)
                    .max(Comparator.comparing(KernelEntry::modified))
                    .map(KernelEntry::compileLinesOf)
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
}
