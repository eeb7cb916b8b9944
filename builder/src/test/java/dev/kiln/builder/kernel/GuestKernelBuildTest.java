package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.hash.ItemHash;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Builds the guest kernel for real (or reuses the suite's cached one, see {@link TestBuilds}) and
 * checks what the build recorded; the vm module's KernelBootTest boots it.
 */
class GuestKernelBuildTest {

    private static GuestKernel kernel;

    @BeforeAll
    static void buildOrReuseTheKernel() throws Exception {
        kernel = TestBuilds.kernel();
    }

    @Test
    void theBuildRecordsAnUncompressedVmlinuxAndItsHash() throws Exception {
        assertThat(kernel.vmlinux()).isRegularFile();
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(kernel.vmlinux())) {
            assertThat(in.read(head)).isEqualTo(4);
        }
        assertThat(head).containsExactly(0x7f, 'E', 'L', 'F');
        assertThat(kernel.sizeBytes()).isEqualTo(Files.size(kernel.vmlinux()));
        assertThat(kernel.sha256()).isEqualTo(ItemHash.sha256Of(kernel.vmlinux()));
        assertThat(kernel.kernelRelease()).startsWith("6.1.");
        assertThat(kernel.vmlinux().getParent().resolve("kernel.json")).isRegularFile();
    }

    @Test
    void theRecordedConfigHasEveryOptionOfTheFragment() throws IOException {
        KernelConfig config = KernelConfig.parse(Files.readString(kernel.config()));

        assertThat(KernelRecipe.standard().droppedIn(config)).isEmpty();
    }

    /** Here, not with the image tests: those run while the kernel still builds (KernelAhead). */
    @Test
    void theGuestKernelHasEveryOptionTheMinimalRuntimesManifestRequires() throws Exception {
        String config = Files.readString(kernel.config());
        for (String option : TestBuilds.runtime("minimal").readManifest().kernel().config()) {
            assertThat(config).as(option).containsPattern("(?m)^" + option + "=y$");
        }
    }

    @Test
    void aSecondBuildIsAVerifiedCacheHit() throws Exception {
        long start = System.nanoTime();
        GuestKernel again = new KernelBuilder(TestBuilds.kilnHome(), BuildListener.SILENT).build();
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(again.fromCache()).isTrue();
        assertThat(again.vmlinux()).isEqualTo(kernel.vmlinux());
        assertThat(again.sha256()).isEqualTo(kernel.sha256());
        assertThat(took).isLessThan(Duration.ofSeconds(3));
    }
}
