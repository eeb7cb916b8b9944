package dev.kiln.builder.kernel;

import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A built guest kernel in the cache: an uncompressed {@code vmlinux} that QEMU boots directly
 * through its PVH entry point, and the {@code .config} it was built from.
 *
 * @param sha256        SHA-256 of the vmlinux, verified whenever the entry is reused
 * @param sourceVersion version of the Debian {@code linux-source-6.1} package, e.g. {@code 6.1.192-2}
 * @param kernelRelease what {@code uname -r} says in the guest, e.g. {@code 6.1.192}
 * @param configHash    SHA-256 of the build recipe (fragment + recipe version): with the source
 *                      version, the cache key
 * @param buildDuration how long the build that produced this entry took (not this call)
 * @param steps         that build's steps and their durations
 * @param fromCache     true if this call reused an existing entry instead of building
 */
public record GuestKernel(Path vmlinux, Path config, ItemHash sha256, long sizeBytes, String sourceVersion,
                          String kernelRelease, String configHash, Duration buildDuration,
                          List<StepTiming> steps, boolean fromCache) {

    public GuestKernel {
        steps = List.copyOf(steps);
    }
}
