package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Copies the vmlinux and its config out of the source tree, hashes the vmlinux, writes
 * kernel.json and renames the finished entry into the cache: the only step that touches the cache.
 */
final class RecordKernelStep implements BuildStep {

    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(60);

    private final BuildWorkspace workspace;
    private final BuildLog log;
    private final BuildCache cache;
    private final KernelCacheKey key;
    private final CompileKernelStep compile;
    private final Supplier<List<StepTiming>> earlierSteps;
    private GuestKernel kernel;

    RecordKernelStep(BuildWorkspace workspace, BuildLog log, BuildCache cache, KernelCacheKey key,
                     CompileKernelStep compile, Supplier<List<StepTiming>> earlierSteps) {
        this.workspace = workspace;
        this.log = log;
        this.cache = cache;
        this.key = key;
        this.compile = compile;
        this.earlierSteps = earlierSteps;
    }

    @Override
    public String name() {
        return "RecordKernel";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(1);
    }

    /** The recorded kernel, once the step has run. */
    GuestKernel kernel() {
        if (kernel == null) throw new IllegalStateException("RecordKernel has not run");
        return kernel;
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path tree = workspace.sourceTree();
        Path out = workspace.output();
        Files.createDirectories(out);
        progress.report(0, "copy vmlinux");
        Files.copy(tree.resolve("vmlinux"), out.resolve(KernelEntry.VMLINUX), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(tree.resolve(".config"), out.resolve(KernelEntry.CONFIG), StandardCopyOption.REPLACE_EXISTING);

        progress.report(0.3, "SHA-256 of vmlinux");
        ItemHash sha256 = ItemHash.sha256Of(out.resolve(KernelEntry.VMLINUX));
        String release = ExternalCommand.of(tree, "make", "-s", "ARCH=x86_64", "kernelrelease").capture(QUERY_TIMEOUT);
        String compiler = KernelConfig.parse(Files.readString(out.resolve(KernelEntry.CONFIG)))
                .valueOf("CONFIG_CC_VERSION_TEXT").replace("\"", "");

        Map<String, Long> stepMillis = new LinkedHashMap<>();
        earlierSteps.get().forEach(t -> stepMillis.put(t.step(), t.took().toMillis()));
        stepMillis.put(name(), Duration.ofNanos(System.nanoTime() - start).toMillis());
        long total = stepMillis.values().stream().mapToLong(Long::longValue).sum();
        KernelMetadata meta = new KernelMetadata(KernelMetadata.SCHEMA, key.sourceVersion(), key.configHash(),
                KernelRecipe.VERSION, release, compiler, sha256.value(), Files.size(out.resolve(KernelEntry.VMLINUX)),
                Instant.now().toString(), total, stepMillis, compile.compileLines());
        meta.write(out.resolve(KernelMetadata.FILE_NAME));
        log.line("vmlinux " + meta.vmlinuxBytes() + " bytes, sha256 " + sha256);

        progress.report(0.9, "move into the cache");
        Path entry = cache.commit(out, key.directoryName());
        kernel = KernelEntry.toGuestKernel(entry, meta, false);
        log.line("recorded " + entry);
    }
}
