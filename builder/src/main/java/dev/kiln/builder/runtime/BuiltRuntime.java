package dev.kiln.builder.runtime;

import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A built runtime image in the cache, with the manifest that describes it.
 *
 * @param name          the spec's name, e.g. {@code debian-12-python}
 * @param image         the image file (a squashfs or ext4 filesystem image)
 * @param imageHash     SHA-256 of the image, verified whenever the entry is reused
 * @param sizeBytes     the image's size
 * @param filesystem    {@code squashfs} or {@code ext4}
 * @param manifest      {@code manifest.json} beside the image: spec hash, image hash, SBOM…
 * @param fromCache     true if this call reused an existing entry instead of building
 * @param specHash      the spec's hash ({@link RuntimeSpec#hash()})
 * @param buildDuration how long the build that produced this entry took (not this call)
 * @param steps         that build's steps and their durations
 */
public record BuiltRuntime(String name, Path image, ItemHash imageHash, long sizeBytes, String filesystem,
                           Path manifest, boolean fromCache, ItemHash specHash, Duration buildDuration,
                           List<StepTiming> steps) {

    public BuiltRuntime {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(imageHash, "imageHash");
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /** The manifest, read from {@link #manifest()}. */
    public RuntimeManifest readManifest() throws IOException {
        return RuntimeManifest.read(manifest);
    }
}
