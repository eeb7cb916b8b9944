package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.StepRunner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Builds Kiln's guest kernel from Debian's {@code linux-source-6.1}, or returns the cached one.
 *
 * <p>The cache key is (source package version, hash of the config fragment and recipe version);
 * a cache hit is verified against the recorded SHA-256 and costs ≈ 0.1 s. A miss runs
 * UnpackSource → ConfigureKernel → CompileKernel → RecordKernel in a workspace next to the cache,
 * ≈ 5–6 minutes on 2 cores. Concurrent builds of the same kernel wait for each other.
 *
 * <pre>{@code
 * GuestKernel kernel = new KernelBuilder(kilnHome, listener).build();
 * qemu ... -kernel kernel.vmlinux()
 * }</pre>
 */
public final class KernelBuilder {

    static final String CACHE_STEP = "ReuseCachedKernel";

    private final BuildCache cache;
    private final BuildListener listener;
    private final KernelRecipe recipe;
    private final KernelSourceLocator locator = new KernelSourceLocator();

    /**
     * @param kilnHome Kiln's home directory (the CLI resolves {@code KILN_HOME}); kernels are
     *                 cached in its {@code kernels/} subdirectory
     */
    public KernelBuilder(Path kilnHome, BuildListener listener) {
        this(kilnHome, listener, KernelRecipe.standard());
    }

    KernelBuilder(Path kilnHome, BuildListener listener, KernelRecipe recipe) {
        this.cache = new BuildCache(kilnHome.resolve("kernels"));
        this.listener = listener;
        this.recipe = recipe;
    }

    /** Where built kernels are kept: {@code <kiln home>/kernels}. */
    public Path cacheDirectory() {
        return cache.root();
    }

    /** The checked-in config fragment this builder applies, as text (for `kiln kernel config`). */
    public String configFragment() {
        return recipe.fragmentText();
    }

    /** The cached kernel for the installed source, verified, without building one. */
    public Optional<GuestKernel> cached() throws KernelBuildException, InterruptedException {
        KernelCacheKey key = KernelCacheKey.of(locator.locate(), recipe);
        return Optional.ofNullable(cache.lookup(key.directoryName(), KernelEntry::read).entry());
    }

    /**
     * Returns the guest kernel for the installed source and the checked-in config, building it
     * first if the cache has no valid entry.
     *
     * @throws KernelBuildException naming the failed step, with the tail of the build log
     */
    public GuestKernel build() throws KernelBuildException, InterruptedException {
        KernelSource source = locator.locate();
        KernelCacheKey key = KernelCacheKey.of(source, recipe);
        try {
            return cache.reuseOrBuild(key.directoryName(), KernelEntry::read, listener, CACHE_STEP,
                    problem -> buildFresh(source, key, problem));
        } catch (IOException e) {
            throw new KernelBuildException("PrepareCache", "cannot use the kernel cache " + cache.root()
                    + ": " + e.getMessage() + " (set KILN_HOME to a writable directory)", List.of(), null, e);
        }
    }

    private GuestKernel buildFresh(KernelSource source, KernelCacheKey key, String cacheProblem)
            throws KernelBuildException, InterruptedException, IOException {
        return cache.inWorkspace(key.directoryName(), (dir, log) -> {
            BuildWorkspace workspace = new BuildWorkspace(dir);
            log.line("kiln guest kernel: " + KernelSourceLocator.PACKAGE + " " + source.version()
                    + " (" + source.tarball() + "), config hash " + key.configHash());
            if (cacheProblem != null) log.line("rebuilding: " + cacheProblem);
            StepRunner<KernelBuildException> runner = runner(listener, log);
            int expected = KernelEntry.lastCompileLines(cache.root()).orElse(CompileKernelStep.DEFAULT_EXPECTED_LINES);
            CompileKernelStep compile = new CompileKernelStep(workspace, log, expected, Runtime.getRuntime().availableProcessors());
            RecordKernelStep record = new RecordKernelStep(workspace, log, cache, key, compile, runner::timings);
            runner.run(List.of(
                    new UnpackSourceStep(source, workspace, log),
                    new ConfigureKernelStep(workspace, log, recipe),
                    compile,
                    record));
            return record.kernel();
        });
    }

    /** The kernel build's runner: its failures are {@link KernelBuildException}s. */
    static StepRunner<KernelBuildException> runner(BuildListener listener, BuildLog log) {
        return new StepRunner<>(listener, log, KernelBuildException.class, KernelBuildException::new);
    }
}
