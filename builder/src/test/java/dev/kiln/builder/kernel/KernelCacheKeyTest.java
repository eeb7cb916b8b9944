package dev.kiln.builder.kernel;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelCacheKeyTest {

    private static final Path TARBALL = Path.of("/usr/src/linux-source-6.1.tar.xz");

    @Test
    void sameSourceAndRecipeGiveTheSameKey() {
        KernelRecipe recipe = new KernelRecipe("CONFIG_64BIT=y\n");

        assertThat(KernelCacheKey.of(new KernelSource(TARBALL, "6.1.192-2"), recipe))
                .isEqualTo(KernelCacheKey.of(new KernelSource(TARBALL, "6.1.192-2"), new KernelRecipe("CONFIG_64BIT=y\n")));
    }

    @Test
    void aNewSourceVersionOrFragmentGivesANewKey() {
        KernelRecipe recipe = new KernelRecipe("CONFIG_64BIT=y\n");
        KernelCacheKey key = KernelCacheKey.of(new KernelSource(TARBALL, "6.1.192-2"), recipe);

        assertThat(KernelCacheKey.of(new KernelSource(TARBALL, "6.1.193-1"), recipe)).isNotEqualTo(key);
        assertThat(KernelCacheKey.of(new KernelSource(TARBALL, "6.1.192-2"), new KernelRecipe("CONFIG_64BIT=y\nCONFIG_SMP=y\n")))
                .isNotEqualTo(key);
    }

    @Test
    void theDirectoryNameIsTheVersionAndAHashPrefix() {
        String hash = "3f2a9c0d1e4b" + "0".repeat(52);

        assertThat(new KernelCacheKey("6.1.192-2", hash).directoryName()).isEqualTo("6.1.192-2-3f2a9c0d1e4b");
        // A Debian epoch ("1:") or anything else unsafe in a path is replaced.
        assertThat(new KernelCacheKey("1:6.1.192-2+deb12u1~bpo", hash).directoryName())
                .isEqualTo("1_6.1.192-2+deb12u1~bpo-3f2a9c0d1e4b");
        assertThat(new KernelCacheKey("../../etc", hash).directoryName()).doesNotContain("/");
    }

    @Test
    void rejectsAnEmptyVersion() {
        assertThatThrownBy(() -> new KernelCacheKey(" ", "0".repeat(64))).isInstanceOf(IllegalArgumentException.class);
    }
}
