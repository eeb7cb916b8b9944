package dev.kiln.builder.kernel;

import java.nio.file.Path;

/**
 * The scratch directory of one build, next to the cache so that the finished entry can be
 * renamed into place atomically (same filesystem). Holds the unpacked source tree (≈ 1.5 GB with
 * objects) only while the build runs.
 */
record BuildWorkspace(Path root) {

    /** The unpacked kernel source, where make runs. */
    Path sourceTree() {
        return root.resolve("linux");
    }

    /** Kiln's fragment as given to merge_config.sh. */
    Path fragment() {
        return root.resolve(KernelRecipe.FRAGMENT_FILE_NAME);
    }

    /** The cache entry being assembled; renamed into the cache when complete. */
    Path output() {
        return root.resolve("entry");
    }
}
