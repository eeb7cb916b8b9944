package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepRunner;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Builds runtime images from specs, or returns the cached image of a spec built before.
 *
 * <p>A build runs BootstrapBase → InstallPackages → [AddFiles] → InstallInit (or InstallSystemd
 * [+ ConfigureBoot for a disk]) → [RemovePackages] →
 * CaptureSbom → Slim → Normalise → PackImage → HashImage in a workspace under {@code <kiln home>/runtimes/images/}; every
 * command that needs the tree's /proc or /dev runs in its own private mount namespace, so nothing
 * stays mounted after a failure or an interruption. The result is cached by spec and init
 * ({@link RuntimeKey}); a cache hit is verified against the image's recorded SHA-256. Concurrent
 * builds of the same spec wait for each other; different specs build side by side.
 *
 * <pre>{@code
 * BuiltRuntime rt = new RuntimeBuilder(kilnHome, BuildListener.SILENT).build(RuntimeSpecs.official("minimal"));
 * qemu ... -drive file=rt.image(),format=raw,readonly=on
 * }</pre>
 */
public final class RuntimeBuilder {

    static final String CACHE_STEP = "ReuseCachedRuntime";
    private static final List<String> TOOLS = List.of("debootstrap", "unshare", "chroot", "mount", "cp", "find", "touch");

    private final Path home;
    private final BuildCache cache;
    private final BaseCache bases;
    private final Path packageCache;
    private final BuildListener listener;

    /**
     * @param kilnHome Kiln's home directory; images, bases and downloaded packages are kept under
     *                 its {@code runtimes/} subdirectory
     */
    public RuntimeBuilder(Path kilnHome, BuildListener listener) {
        this(kilnHome, kilnHome.resolve("runtimes").resolve("images"), listener);
    }

    /**
     * A builder whose images go to {@code imagesDir} while bases and packages stay shared under the
     * home: tests build one spec twice this way, to compare the two images.
     */
    RuntimeBuilder(Path kilnHome, Path imagesDir, BuildListener listener) {
        this(kilnHome, imagesDir, kilnHome.resolve("runtimes").resolve("bases"), listener);
    }

    /** Like the above with its own base cache too: a test bootstraps a base of its own this way. */
    RuntimeBuilder(Path kilnHome, Path imagesDir, Path basesDir, BuildListener listener) {
        this.home = kilnHome;
        Path runtimes = kilnHome.resolve("runtimes");
        this.cache = new BuildCache(imagesDir);
        this.bases = new BaseCache(basesDir);
        this.packageCache = runtimes.resolve("packages");
        this.listener = listener;
    }

    /** Where built images are kept: {@code <kiln home>/runtimes/images}. */
    public Path cacheDirectory() {
        return cache.root();
    }

    /** The cached, verified image of {@code spec}, without building. */
    public Optional<BuiltRuntime> cached(RuntimeSpec spec) {
        try {
            return Optional.ofNullable(cache.lookup(RuntimeKey.of(spec).directoryName(), ImageEntry::read).entry());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Every image in the cache, most recently built or reused first (unverified: listing must stay cheap). A spec
     * that changed has older entries under the same name; they stay until removed by hand.
     */
    public List<BuiltRuntime> list() {
        record Listed(BuiltRuntime runtime, long lastUsed, String builtAt) {
        }
        List<Listed> out = new ArrayList<>();
        try {
            for (Path entry : cache.entries(RuntimeManifest.FILE_NAME)) {
                try {
                    RuntimeManifest m = RuntimeManifest.read(entry.resolve(RuntimeManifest.FILE_NAME));
                    BuildRecord r = BuildRecord.read(entry.resolve(BuildRecord.FILE_NAME));
                    out.add(new Listed(ImageEntry.toBuiltRuntime(entry, m, r, true), BuildCache.lastUsedMillis(entry),
                            r.builtAt()));
                } catch (IOException | RuntimeException e) {
                    // an unreadable entry is rebuilt when its spec is built again; it lists as nothing
                }
            }
        } catch (IOException e) {
            // no cache directory yet: nothing built
        }
        // Most recently built or reused first: that is the entry of each spec's current key.
        out.sort(Comparator.comparingLong(Listed::lastUsed).thenComparing(Listed::builtAt).reversed());
        return out.stream().map(Listed::runtime).toList();
    }

    /**
     * Returns the image for {@code spec}, building it first if the cache has no valid entry.
     *
     * @throws RuntimeBuildException naming the failed step, with the tail of the build log
     */
    public BuiltRuntime build(RuntimeSpec spec) throws RuntimeBuildException, InterruptedException {
        RuntimeKey key;
        try {
            key = RuntimeKey.of(spec);
        } catch (IOException e) {
            throw new RuntimeBuildException("ReadSpec", "cannot read a file the spec names: " + e.getMessage());
        }
        try {
            return cache.reuseOrBuild(key.directoryName(), ImageEntry::read, listener, CACHE_STEP, problem -> {
                checkHost(spec);
                return buildFresh(spec, key, problem);
            });
        } catch (IOException e) {
            throw new RuntimeBuildException("PrepareCache", "cannot use the runtime cache " + cache.root() + ": "
                    + e.getMessage() + " (set KILN_HOME to a writable directory)", List.of(), null, e);
        }
    }

    private BuiltRuntime buildFresh(RuntimeSpec spec, RuntimeKey key, String cacheProblem)
            throws RuntimeBuildException, InterruptedException, IOException {
        return cache.inWorkspace(key.directoryName(), (dir, log) -> {
            RuntimeWorkspace workspace = new RuntimeWorkspace(dir);
            log.line("kiln runtime " + spec.name() + ": spec " + spec.hash() + ", cache key " + key.value());
            if (cacheProblem != null) log.line("rebuilding: " + cacheProblem);
            Optional<ItemHash> release = MirrorRelease.fetch(spec.base().mirror(), spec.base().suite());
            ArchiveCheck.require(spec, release, bases);
            RootFs root = workspace.rootfs();
            Chroot chroot = new Chroot(root, packageCache, log, spec.sourceDateEpoch());
            Chroot offline = new Chroot(root, null, log, spec.sourceDateEpoch());
            StepRunner<RuntimeBuildException> runner = new StepRunner<>(listener, log, RuntimeBuildException.class,
                    RuntimeBuildException::new);

            BootstrapBaseStep bootstrap = new BootstrapBaseStep(spec, bases, packageCache, workspace, log, release);
            RemovePackagesStep removePackages = new RemovePackagesStep(spec, root, log);
            CaptureSbomStep sbom = new CaptureSbomStep(root);
            SlimStep slim = new SlimStep(spec, root, log);
            PackImageStep pack = new PackImageStep(spec, root, workspace.output(), log);
            HashImageStep hash = new HashImageStep(spec, key, cache, workspace.output(), log, pack,
                    () -> new RuntimeManifest.Base(spec.base().suite(), spec.base().mirror(), spec.architecture(),
                            bootstrap.base().info().releaseSha256()),
                    sbom::sbom, () -> {
                        Map<String, Long> removed = new TreeMap<>(removePackages.removedBytes());
                        removed.putAll(slim.removedBytes());
                        return removed;
                    }, runner::timings);
            List<BuildStep> steps = new ArrayList<>();
            steps.add(bootstrap);
            steps.add(new InstallPackagesStep(spec, root, chroot, packageCache));
            if (!spec.files().isEmpty()) steps.add(new AddFilesStep(spec, root));
            steps.add(spec.instance() ? new InstallSystemdStep(spec, root) : new InstallInitStep(spec, root));
            if (spec.disk()) steps.add(new ConfigureBootStep(spec, root, offline));
            if (!spec.slim().removePackages().isEmpty()) steps.add(removePackages);
            steps.add(sbom);
            steps.add(slim);
            steps.add(new NormaliseStep(spec, root, offline, log));
            steps.add(pack);
            steps.add(hash);
            runner.run(steps);
            return hash.built();
        });
    }

    /** Fails early, with what to do, on a host that cannot build at all. */
    private void checkHost(RuntimeSpec spec) throws RuntimeBuildException {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (!Integer.valueOf(0).equals(uid)) {
                throw new RuntimeBuildException("CheckHost", "building a runtime needs root (debootstrap, chroot and"
                        + " mount do): run kiln as root, e.g. with sudo");
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new RuntimeBuildException("CheckHost", "runtimes are built on Linux only (cannot read /proc/self: "
                    + e.getMessage() + ")");
        }
        List<String> missing = new ArrayList<>();
        for (String tool : TOOLS) if (!onPath(tool)) missing.add(tool);
        if (!onPath("mksquashfs")) missing.add("mksquashfs");
        if (!onPath("mkfs.ext4")) missing.add("mkfs.ext4");
        if (spec.disk() && !onPath("sfdisk")) missing.add("sfdisk");
        if (spec.disk() && !onPath("grub-mkimage")) missing.add("grub-mkimage");
        if (!missing.isEmpty()) {
            throw new RuntimeBuildException("CheckHost", "missing " + String.join(", ", missing)
                    + ": install debootstrap, squashfs-tools, e2fsprogs, fdisk and grub-pc-bin (scripts/setup.sh does)");
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    /** The Kiln home this builder works in. */
    public Path home() {
        return home;
    }
}
