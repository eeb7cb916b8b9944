package dev.kiln.builder.kernel;

import java.util.Objects;

/**
 * What a built kernel depends on: the Debian source package version and the recipe's config hash.
 * Two builds with the same key are interchangeable, so the second one is a cache hit.
 */
record KernelCacheKey(String sourceVersion, String configHash) {

    static final int HASH_PREFIX_LENGTH = 12;

    KernelCacheKey {
        Objects.requireNonNull(sourceVersion, "sourceVersion");
        Objects.requireNonNull(configHash, "configHash");
        if (sourceVersion.isBlank()) throw new IllegalArgumentException("empty source version");
        if (configHash.length() < HASH_PREFIX_LENGTH) throw new IllegalArgumentException("short config hash");
    }

    static KernelCacheKey of(KernelSource source, KernelRecipe recipe) {
        return new KernelCacheKey(source.version(), recipe.configHash());
    }

    /**
     * The cache entry's directory name, e.g. {@code 6.1.192-2-3f2a9c0d1e4b}. Debian versions may
     * hold an epoch colon or other characters awkward in paths; those become {@code _}.
     */
    String directoryName() {
        String version = sourceVersion.replaceAll("[^A-Za-z0-9.+~-]", "_");
        return version + "-" + configHash.substring(0, HASH_PREFIX_LENGTH);
    }
}
