package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestInit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Hashes the image, writes its manifest and build record, and renames the finished entry into the
 * cache: the only step that touches the cache.
 */
final class HashImageStep implements BuildStep {

    private final RuntimeSpec spec;
    private final RuntimeKey key;
    private final BuildCache cache;
    private final Path output;
    private final BuildLog log;
    private final PackImageStep pack;
    private final Supplier<RuntimeManifest.Base> base;
    private final Supplier<List<RuntimeManifest.SbomEntry>> sbom;
    private final Supplier<Map<String, Long>> removed;
    private final Supplier<List<StepTiming>> earlierSteps;
    private BuiltRuntime built;

    HashImageStep(RuntimeSpec spec, RuntimeKey key, BuildCache cache, Path output, BuildLog log, PackImageStep pack,
                  Supplier<RuntimeManifest.Base> base, Supplier<List<RuntimeManifest.SbomEntry>> sbom,
                  Supplier<Map<String, Long>> removed, Supplier<List<StepTiming>> earlierSteps) {
        this.spec = spec;
        this.key = key;
        this.cache = cache;
        this.output = output;
        this.log = log;
        this.pack = pack;
        this.base = base;
        this.sbom = sbom;
        this.removed = removed;
        this.earlierSteps = earlierSteps;
    }

    @Override
    public String name() {
        return "HashImage";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMillis(500);
    }

    BuiltRuntime built() {
        if (built == null) throw new IllegalStateException("HashImage has not run");
        return built;
    }

    @Override
    public void run(StepProgress progress) throws IOException {
        long start = System.nanoTime();
        Path image = pack.image();
        progress.report(0.1, "SHA-256 of " + image.getFileName());
        ItemHash sha256 = pack.hash();
        long size = Files.size(image);
        RuntimeManifest manifest = new RuntimeManifest(RuntimeManifest.SCHEMA, spec.name(), spec.description(),
                spec.hash().value(), spec.toJson(),
                new RuntimeManifest.Image(image.getFileName().toString(), sha256.value(), size, spec.output().format(),
                        spec.output().compression()),
                base.get(),
                new RuntimeManifest.Init(GuestInit.INIT0_PATH, ItemHash.sha256Of(GuestInit.init0()).value(),
                        GuestInit.INIT1_PATH, ItemHash.sha256Of(GuestInit.init1()).value()),
                KernelRequirements.of(spec), sbom.get(), new TreeMap<>(removed.get()), spec.sourceDateEpoch());
        manifest.write(output.resolve(RuntimeManifest.FILE_NAME));

        Map<String, Long> stepMillis = new LinkedHashMap<>();
        earlierSteps.get().forEach(t -> stepMillis.put(t.step(), t.took().toMillis()));
        stepMillis.put(name(), Duration.ofNanos(System.nanoTime() - start).toMillis());
        long total = stepMillis.values().stream().mapToLong(Long::longValue).sum();
        BuildRecord record = new BuildRecord(BuildRecord.SCHEMA, key.value(), Instant.now().toString(), total, stepMillis);
        record.write(output.resolve(BuildRecord.FILE_NAME));
        log.line("image sha256 " + sha256 + ", " + size + " bytes");

        progress.report(0.9, "move into the cache");
        Path entry = cache.commit(output, key.directoryName());
        built = ImageEntry.toBuiltRuntime(entry, manifest, record, false);
        log.line("recorded " + entry);
    }
}
