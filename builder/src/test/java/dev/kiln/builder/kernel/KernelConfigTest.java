package dev.kiln.builder.kernel;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelConfigTest {

    /** An excerpt of a real .config, as `make olddefconfig` writes it. */
    static final String DOT_CONFIG = """
            #
            # Automatically generated file; DO NOT EDIT.
            # Linux/x86 6.1.192 Kernel Configuration
            #
            CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14+deb12u1) 12.2.0"
            CONFIG_64BIT=y
            CONFIG_SMP=y
            # CONFIG_RANDOMIZE_BASE is not set
            CONFIG_PANIC_TIMEOUT=-1
            CONFIG_VIRTIO_MMIO=y
            # CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES is not set
            CONFIG_SQUASHFS=m

            #
            # Kernel hacking
            #
            """;

    @Test
    void readsValuesUnsetOptionsAndQuotedStrings() {
        KernelConfig config = KernelConfig.parse(DOT_CONFIG);

        assertThat(config.valueOf("CONFIG_64BIT")).isEqualTo("y");
        assertThat(config.valueOf("CONFIG_PANIC_TIMEOUT")).isEqualTo("-1");
        assertThat(config.valueOf("CONFIG_SQUASHFS")).isEqualTo("m");
        assertThat(config.valueOf("CONFIG_CC_VERSION_TEXT")).isEqualTo("\"gcc (Debian 12.2.0-14+deb12u1) 12.2.0\"");
        assertThat(config.valueOf("CONFIG_RANDOMIZE_BASE")).isEqualTo("n");
    }

    @Test
    void anOptionKconfigLeftOutIsNotSet() {
        // Options under a disabled menu do not appear in .config at all.
        assertThat(KernelConfig.parse(DOT_CONFIG).valueOf("CONFIG_SQUASHFS_ZSTD")).isEqualTo("n");
    }

    @Test
    void rejectsALineThatIsNotAnOption() {
        assertThatThrownBy(() -> KernelConfig.parse("CONFIG_A=y\nCONFIG_B y\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 2")
                .hasMessageContaining("CONFIG_B y");
    }

    @Test
    void findsEveryOptionTheFinalConfigDropped() {
        KernelRecipe recipe = new KernelRecipe("""
                ## wanted
                CONFIG_64BIT=y
                CONFIG_VIRTIO_MMIO=y
                CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y
                CONFIG_SQUASHFS=y
                CONFIG_SQUASHFS_ZSTD=y
                CONFIG_PANIC_TIMEOUT=-1
                # CONFIG_RANDOMIZE_BASE is not set
                # CONFIG_MODULES is not set
                CONFIG_SMP=n
                """);

        var dropped = recipe.droppedIn(KernelConfig.parse(DOT_CONFIG));

        assertThat(dropped).containsExactly(
                new DroppedOption("CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES", "y", "n"),
                new DroppedOption("CONFIG_SQUASHFS", "y", "m"),
                new DroppedOption("CONFIG_SQUASHFS_ZSTD", "y", "n"),
                new DroppedOption("CONFIG_SMP", "n", "y"));
        assertThat(dropped.get(0)).hasToString(
                "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y was requested, the final config has CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES is not set");
    }

    @Test
    void aConfigThatHonoursTheFragmentDropsNothing() {
        KernelRecipe recipe = new KernelRecipe("CONFIG_64BIT=y\n# CONFIG_RANDOMIZE_BASE is not set\nCONFIG_PANIC_TIMEOUT=-1\n");

        assertThat(recipe.droppedIn(KernelConfig.parse(DOT_CONFIG))).isEmpty();
    }
}
