package dev.kiln.builder.kernel;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KernelRecipeTest {

    private final KernelRecipe standard = KernelRecipe.standard();

    @Test
    void theCheckedInFragmentRequiresWhatTheGuestCannotBootWithout() {
        KernelConfig required = standard.required();

        assertThat(required.values()).contains(
                entry("CONFIG_PVH", "y"),
                entry("CONFIG_SERIAL_8250_CONSOLE", "y"),
                entry("CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES", "y"),
                entry("CONFIG_VIRTIO_BLK", "y"),
                entry("CONFIG_VIRTIO_CONSOLE", "y"),
                entry("CONFIG_SQUASHFS_ZSTD", "y"),
                entry("CONFIG_OVERLAY_FS", "y"),
                entry("CONFIG_DEVTMPFS", "y"),
                entry("CONFIG_UNIX", "y"),
                entry("CONFIG_RANDOMIZE_BASE", "n"),
                entry("CONFIG_MODULES", "n"));
    }

    @Test
    void nothingIsBuiltAsAModule() {
        assertThat(standard.required().values()).doesNotContainValue("m");
    }

    @Test
    void theConfigHashCoversTheFragmentAndTheRecipeVersion() {
        KernelRecipe a = new KernelRecipe("CONFIG_64BIT=y\n");
        KernelRecipe sameText = new KernelRecipe("CONFIG_64BIT=y\n");
        KernelRecipe changed = new KernelRecipe("CONFIG_64BIT=y\nCONFIG_SMP=y\n");

        assertThat(a.configHash()).isEqualTo(sameText.configHash()).hasSize(64).matches("[0-9a-f]+");
        assertThat(changed.configHash()).isNotEqualTo(a.configHash());
        // The recipe version is part of the hash: the fragment alone would not change it.
        assertThat(a.configHash()).isNotEqualTo(dev.kiln.core.hash.ItemHash.sha256Of("CONFIG_64BIT=y\n".getBytes()).value());
    }

    private static java.util.Map.Entry<String, String> entry(String k, String v) {
        return java.util.Map.entry(k, v);
    }
}
