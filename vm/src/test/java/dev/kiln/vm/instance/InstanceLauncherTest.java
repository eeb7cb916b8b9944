package dev.kiln.vm.instance;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.qemu.HostTsc;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The two machine shapes of an instance, as command lines (no VM: the boot tests start them).
 * A rootfs instance gets Kiln's kernel on microvm with the TCG TSC words; a disk image gets the
 * PC machine's firmware, virtio-pci devices with the disk first in boot order, and no kernel.
 */
class InstanceLauncherTest {

    private final InstanceLauncher launcher = new InstanceLauncher("qemu-system-x86_64", Accelerator.TCG,
            new HostTsc(2_596_126, "test"));
    private final Path dir = Path.of("work");

    @Test
    void aRootfsInstanceBootsKilnsKernelOnMicrovm() {
        List<String> a = launcher.commandLine(new InstanceSpec("vm", Path.of("vmlinux"), dir.resolve("disk.qcow2"),
                dir.resolve("seed.iso"), 512, 1, 2222, dir));
        assertThat(String.join(" ", a)).contains("-machine microvm").contains("-kernel ")
                .contains("tsc_early_khz=2596126").contains("virtio-blk-device,drive=root")
                .contains("virtio-net-device,netdev=net0").contains("hostfwd=tcp:127.0.0.1:2222-:22");
    }

    @Test
    void aDiskImageBootsThroughThePcMachinesFirmware() {
        List<String> a = launcher.commandLine(new InstanceSpec("vm", new InstanceBoot.FirmwareBoot(),
                dir.resolve("disk.qcow2"), dir.resolve("seed.iso"), 512, 1, 2222, dir));
        String line = String.join(" ", a);
        assertThat(line).contains("-machine pc").contains("virtio-blk-pci,drive=root,bootindex=0")
                .contains("virtio-blk-pci,drive=seed").contains("virtio-net-pci,netdev=net0")
                .contains("hostfwd=tcp:127.0.0.1:2222-:22");
        // The image's GRUB has the command line: QEMU must not load a kernel or pass arguments.
        assertThat(a).doesNotContain("-kernel", "-append");
        assertThat(line).doesNotContain("tsc_early_khz").doesNotContain("microvm");
    }
}
