package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real builds that must not produce a kernel: each unpacks the real source into a private Kiln
 * home, so they cost ≈ 15–40 s but never touch the suite's shared kernel.
 */
class KernelBuilderFailureTest {

    @TempDir
    Path home;

    private final CountDownLatch unpacking = new CountDownLatch(1);

    @Test
    void anOptionKconfigDropsFailsTheBuildNamingIt() throws Exception {
        // SQUASHFS depends on MISC_FILESYSTEMS, which tinyconfig turns off: Kconfig drops it silently.
        KernelRecipe recipe = new KernelRecipe("CONFIG_64BIT=y\nCONFIG_SQUASHFS=y\n");
        KernelBuilder builder = new KernelBuilder(home, BuildListener.SILENT, recipe);

        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(KernelBuildException.class, e -> {
                    assertThat(e.step()).isEqualTo("ConfigureKernel");
                    assertThat(e.getMessage())
                            .contains("1 option(s)")
                            .contains("CONFIG_SQUASHFS=y was requested, the final config has CONFIG_SQUASHFS is not set")
                            .doesNotContain("CONFIG_64BIT");
                    assertThat(e.logTail()).anyMatch(line -> line.startsWith("dropped: CONFIG_SQUASHFS=y"));
                    assertThat(e.log()).isRegularFile();
                });
        assertNoEntryAndNoWorkspace();
    }

    @Test
    void anInterruptedBuildLeavesNoEntryNoWorkspaceAndNoProcesses() throws Exception {
        KernelBuilder builder = new KernelBuilder(home, progress -> {
            if (progress.step().equals("UnpackSource") && progress.stepFraction() > 0.02) unpacking.countDown();
        }, new KernelRecipe("CONFIG_64BIT=y\n"));
        AtomicReference<Throwable> outcome = new AtomicReference<>();

        Thread build = Thread.ofPlatform().start(() -> {
            try {
                builder.build();
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        assertThat(unpacking.await(60, TimeUnit.SECONDS)).as("unpacking started").isTrue();
        build.interrupt();
        build.join(60_000);

        assertThat(build.isAlive()).isFalse();
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        assertNoEntryAndNoWorkspace();
        // tar and its xz were killed, not left running.
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .map(p -> p.info().command().orElse("?"))).noneMatch(c -> c.endsWith("tar") || c.endsWith("xz"));
    }

    private void assertNoEntryAndNoWorkspace() throws Exception {
        try (var names = Files.list(home.resolve("kernels"))) {
            // Only the lock and the log remain: no entry directory, no workspace.
            assertThat(names.map(p -> p.getFileName().toString()))
                    .allMatch(n -> n.endsWith(".lock") || n.endsWith(".log"));
        }
    }
}
