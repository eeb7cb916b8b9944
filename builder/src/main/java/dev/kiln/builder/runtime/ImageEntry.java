package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildCache.Lookup;
import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One built image in the {@link BuildCache} under {@code <kiln home>/runtimes/images/}, named by
 * its {@link RuntimeKey} (e.g. {@code minimal-3f2a9c0d1e4b/}): the image, manifest.json, build.json.
 */
final class ImageEntry {

    private ImageEntry() {
    }

    /**
     * Checks the image against the SHA-256 in its manifest (≈ 0.1 s for 40 MB), so a truncated or
     * altered image is rebuilt, never booted.
     */
    static Lookup<BuiltRuntime> read(Path entry) throws IOException {
        RuntimeManifest manifest = RuntimeManifest.read(entry.resolve(RuntimeManifest.FILE_NAME));
        Path image = entry.resolve(manifest.image().file());
        ItemHash actual = ItemHash.sha256Of(image);
        if (!actual.value().equals(manifest.image().sha256())) {
            return Lookup.stale("the cached image's SHA-256 is " + actual.shortForm() + "…, its manifest records "
                    + manifest.image().sha256());
        }
        BuildRecord record = BuildRecord.read(entry.resolve(BuildRecord.FILE_NAME));
        return Lookup.found(toBuiltRuntime(entry, manifest, record, true));
    }

    static BuiltRuntime toBuiltRuntime(Path entry, RuntimeManifest manifest, BuildRecord record, boolean fromCache) {
        List<StepTiming> steps = new ArrayList<>();
        record.stepMillis().forEach((step, millis) -> steps.add(new StepTiming(step, Duration.ofMillis(millis))));
        return new BuiltRuntime(manifest.name(), entry.resolve(manifest.image().file()), ItemHash.parse(manifest.image().sha256()),
                manifest.image().sizeBytes(), manifest.image().filesystem(), entry.resolve(RuntimeManifest.FILE_NAME),
                fromCache, ItemHash.parse(manifest.specHash()), Duration.ofMillis(record.buildMillis()), steps);
    }
}
