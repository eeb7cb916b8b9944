package dev.kiln.builder.runtime;

import java.nio.file.Path;

/**
 * The scratch directory of one build, next to the cache so the finished entry is renamed into
 * place atomically (same filesystem). Exists only while the build runs.
 */
record RuntimeWorkspace(Path root) {

    /** The root filesystem being built. */
    RootFs rootfs() {
        return new RootFs(root.resolve("rootfs"));
    }

    /** The cache entry being assembled: image, manifest, build record. */
    Path output() {
        return root.resolve("entry");
    }
}
