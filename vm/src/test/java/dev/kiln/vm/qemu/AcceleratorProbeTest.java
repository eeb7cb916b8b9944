package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AcceleratorProbeTest {
    static final String QEMU = QemuCommandLine.DEFAULT_BINARY;

    @Test
    void forcedAcceleratorsSkipTheProbe() throws Exception {
        assertThat(AcceleratorProbe.choose("tcg", QEMU, null, null, VmmSpawner.shared()))
                .isEqualTo(new AcceleratorChoice(Accelerator.TCG, "forced by the launcher's options"));
        assertThat(AcceleratorProbe.choose("KVM", QEMU, null, null, VmmSpawner.shared()).accelerator()).isEqualTo(Accelerator.KVM);
    }

    @Test
    void anUnknownAcceleratorIsRefusedWithTheChoices() {
        assertThatThrownBy(() -> AcceleratorProbe.choose("hvf", QEMU, null, null, VmmSpawner.shared()))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("KILN_ACCEL must be tcg, kvm or auto; got 'hvf'");
    }

    /**
     * A real probe on this host: KVM only if a guest kernel really booted under it. On the project's
     * build hosts /dev/kvm is PVM, the guest crashes, and the answer must be TCG.
     */
    @Test
    void theProbeBootsARealKernelAndFallsBackToTcgWhenKvmCannotRunIt() throws Exception {
        long t0 = System.nanoTime();
        AcceleratorChoice choice = AcceleratorProbe.probe(QEMU, TestImages.kernel(), VmmSpawner.shared());
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        System.err.println("KVM probe on this host: " + choice + " in " + took.toMillis() + " ms");
        assertThat(took).isLessThan(AcceleratorProbe.PROBE_TIMEOUT.plusSeconds(3));
        if (choice.accelerator() == Accelerator.KVM) {
            assertThat(choice.reason()).contains("booted under KVM");
        } else if (Files.isWritable(Path.of("/dev/kvm"))) {
            assertThat(choice.reason()).startsWith("KVM probe");
        } else {
            assertThat(choice.reason()).contains("/dev/kvm");
        }
        assertThat(VmTests.runningQemuChildren()).as("the probe's QEMU is gone").isEmpty();
    }

    @Test
    void withoutAKernelThereIsNothingToProbeWith() throws Exception {
        AcceleratorChoice choice = AcceleratorProbe.probe(QEMU, Path.of("/nonexistent/vmlinux"), VmmSpawner.shared());
        assertThat(choice.accelerator()).isEqualTo(Accelerator.TCG);
        assertThat(choice.reason()).containsAnyOf("no guest kernel", "/dev/kvm");
    }
}
