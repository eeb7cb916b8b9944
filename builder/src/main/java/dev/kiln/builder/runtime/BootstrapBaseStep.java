package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.KeyLock;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Puts a Debian minbase system into the workspace: a copy of the cached base for the spec's suite
 * and mirror, bootstrapped first with {@code debootstrap --variant=minbase} (.debs kept in the
 * shared package cache) if there is none for the archive's current state.
 */
final class BootstrapBaseStep implements BuildStep {

    /** Packages of a bookworm minbase; debootstrap's progress is measured against it. */
    private static final int TYPICAL_PACKAGES = 90;

    private final RuntimeSpec spec;
    private final BaseCache bases;
    private final Path packageCache;
    private final RuntimeWorkspace workspace;
    private final BuildLog log;
    private final Optional<ItemHash> release;
    private final boolean cached;
    private BaseCache.Base used;

    BootstrapBaseStep(RuntimeSpec spec, BaseCache bases, Path packageCache, RuntimeWorkspace workspace, BuildLog log,
                      Optional<ItemHash> release) throws IOException {
        this.spec = spec;
        this.bases = bases;
        this.packageCache = packageCache;
        this.workspace = workspace;
        this.log = log;
        this.release = release;
        this.cached = bases.find(BaseCache.family(spec.base(), spec.architecture()), release).isPresent();
    }

    @Override
    public String name() {
        return "BootstrapBase";
    }

    @Override
    public Duration typicalDuration() {
        return cached ? Duration.ofSeconds(3) : Duration.ofSeconds(60);
    }

    /** The base that was copied, once the step has run. */
    BaseCache.Base base() {
        if (used == null) throw new IllegalStateException("BootstrapBase has not run");
        return used;
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        String family = BaseCache.family(spec.base(), spec.architecture());
        String name = BaseCache.name(family, release);
        BaseCache.Base base;
        try (KeyLock _ = bases.lock(name)) {
            // Looked up again under the lock: a bootstrap running when we arrived has now finished.
            Optional<BaseCache.Base> found = bases.find(family, release);
            if (found.isPresent()) {
                base = found.get();
                log.line("reusing the base " + base.dir().getFileName() + " (archive state "
                        + Optional.ofNullable(base.info().releaseSha256()).orElse("unknown") + ")");
            } else {
                base = bootstrap(family, name, progress);
            }
            progress.report(0.9, "copy the base");
            Path target = workspace.rootfs().dir();
            // --reflink=auto makes this a cheap copy-on-write clone on btrfs/xfs, a plain copy elsewhere.
            log.run(new ExternalCommand(List.of("cp", "-a", "--reflink=auto", base.rootfs().toString(), target.toString()),
                    workspace.root(), Map.of()));
        }
        used = base;
    }

    private BaseCache.Base bootstrap(String family, String name, StepProgress progress) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path work = bases.workspace(name);
        FileTrees.delete(work);
        Path rootfs = work.resolve(BaseCache.ROOTFS);
        Files.createDirectories(rootfs);
        Files.createDirectories(packageCache);
        log.line("bootstrapping " + spec.base().suite() + " from " + spec.base().mirror() + " (archive state "
                + release.map(ItemHash::value).orElse("unknown: the mirror did not answer") + ")");
        List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private",
                "--pid", "--fork", "--kill-child", "--",
                "debootstrap", "--variant=minbase", "--arch=amd64", "--components=main",
                "--cache-dir=" + packageCache, spec.base().suite(), rootfs.toString(), spec.base().mirror()));
        DebootstrapProgress parse = new DebootstrapProgress(progress);
        try (KeyLock _ = PackageCache.lock(packageCache)) {
            log.run(new ExternalCommand(argv, work, Map.of()), parse::line);
        } catch (IOException e) {
            FileTrees.delete(work);
            throw new IOException("debootstrap could not install " + spec.base().suite() + " from " + spec.base().mirror()
                    + " (is the mirror reachable? see the log's end): " + e.getMessage(), e);
        }
        // The .debs are in the shared package cache already; the base need not carry a copy.
        for (String dir : List.of("var/cache/apt/archives")) {
            try (var debs = Files.newDirectoryStream(rootfs.resolve(dir), "*.deb")) {
                for (Path deb : debs) Files.delete(deb);
            }
        }
        BaseCache.BaseInfo info = new BaseCache.BaseInfo(spec.base().suite(), spec.base().mirror(), spec.architecture(),
                release.map(ItemHash::value).orElse(null), Instant.now().toString(),
                Duration.ofNanos(System.nanoTime() - start).toMillis());
        return bases.commit(work, name, family, info);
    }

    /** Maps debootstrap's "I: Retrieving/Extracting/Unpacking/Configuring pkg" lines onto 0–0.9. */
    private static final class DebootstrapProgress {
        private final StepProgress progress;
        private int retrieved;
        private int extracted;
        private int unpacked;
        private int configured;

        DebootstrapProgress(StepProgress progress) {
            this.progress = progress;
        }

        void line(String text) {
            String[] words = text.split(" ");
            if (words.length < 3 || !words[0].equals("I:")) return;
            String pkg = words[2].replace("...", "");
            switch (words[1]) {
                case "Retrieving" -> progress.report(0.3 * fraction(++retrieved), "retrieve " + pkg);
                case "Extracting" -> progress.report(0.3 + 0.1 * fraction(++extracted), "extract " + pkg);
                case "Unpacking" -> progress.report(0.4 + 0.25 * fraction(++unpacked), "unpack " + pkg);
                case "Configuring" -> progress.report(0.65 + 0.25 * fraction(++configured), "configure " + pkg);
                default -> { }
            }
        }

        private double fraction(int count) {
            return Math.min(1, (double) count / Math.max(TYPICAL_PACKAGES, retrieved));
        }
    }
}
