package dev.kiln.vm.qemu;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.testing.TestBuilds;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Boots the guest kernel the builder made (or the suite's cached one, see {@link TestBuilds})
 * under QEMU microvm with TCG, from a raw command line: what the kernel itself can do, before
 * any of Kiln's launcher is involved.
 */
class KernelBootTest {

    /** Generous: a TCG boot takes ≈ 1 s, but the machine's cores are shared with other builds. */
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(90);

    private static GuestKernel kernel;
    private static String tscArguments;

    @BeforeAll
    static void buildOrReuseTheKernel() throws Exception {
        kernel = TestBuilds.kernel();
        tscArguments = HostTsc.detect().kernelArguments();
    }

    @Test
    void withoutARootDiskTheKernelBootsToTheRootMountPanicAndQemuExits(@TempDir Path dir) throws Exception {
        // No initramfs and no drive: the kernel must reach the point of mounting root and give
        // up. CONFIG_PANIC_TIMEOUT=-1 turns the panic into a reboot, which -no-reboot turns
        // into QEMU exiting: a broken guest never spins forever.
        List<String> command = QemuBoot.command(kernel.vmlinux(),
                "console=ttyS0 " + tscArguments + " random.trust_cpu=on", dir.resolve("serial.log"));

        QemuBoot.Outcome outcome = QemuBoot.run(command, dir, BOOT_TIMEOUT);

        assertThat(outcome.serial()).as(outcome.toString())
                .contains("Linux version " + kernel.kernelRelease())
                .contains("Kernel panic - not syncing: VFS: Unable to mount root fs");
        assertThat(outcome.exitedByItself()).as(outcome.toString()).isTrue();
    }

    @Test
    void aProbeInitSeesEveryDeviceAndFilesystemAndPowersOff(@TempDir Path dir) throws Exception {
        Path initramfs = ProbeInit.initramfs(dir);
        Path rootImage = ProbeInit.squashfsWithMarker(dir, "from the squashfs");
        Path portOutput = dir.resolve("port-output.txt");
        List<String> command = QemuBoot.command(kernel.vmlinux(),
                "console=ttyS0 " + tscArguments + " random.trust_cpu=on", dir.resolve("serial.log"));
        command.addAll(List.of(
                "-initrd", initramfs.toString(),
                "-drive", "id=root,if=none,format=raw,readonly=on,file=" + rootImage,
                "-device", "virtio-blk-device,drive=root",
                "-device", "virtio-serial-device",
                "-chardev", "file,id=agent,path=" + portOutput,
                "-device", "virtserialport,chardev=agent,name=kiln.agent",
                "-netdev", "user,id=net0",
                "-device", "virtio-net-device,netdev=net0",
                "-device", "virtio-rng-device"));

        QemuBoot.Outcome outcome = QemuBoot.run(command, dir, BOOT_TIMEOUT);

        String serial = outcome.serial();
        assertThat(serial).as(outcome.toString())
                .contains("virtio_blk virtio0: [vda]")
                .contains("KILN-PROBE uname ok " + kernel.kernelRelease())
                .contains("KILN-PROBE mount-squashfs ok")
                .contains("KILN-PROBE mount-overlay ok")
                .contains("KILN-PROBE read-through-overlay ok from the squashfs")
                .contains("KILN-PROBE write-through-overlay ok")
                .contains("KILN-PROBE delete-through-overlay ok")
                .contains("KILN-PROBE virtio-port ok kiln.agent=/dev/vport")
                .contains("KILN-PROBE virtio-net ok")
                .contains("KILN-PROBE hw-random ok virtio_rng")
                .contains("KILN-PROBE entropy-ready ok")
                .contains("KILN-PROBE socket-unix ok")
                .contains("KILN-PROBE socket-inet ok")
                .contains("KILN-PROBE socket-inet6 ok")
                .doesNotContain("FAILED");
        assertThat(portOutput).as(outcome.toString()).hasContent("hello from the guest");
        // The guest reads the wall clock from microvm's CMOS RTC: TLS needs a correct date.
        Matcher clock = Pattern.compile("KILN-PROBE wall-clock ok (\\d+)").matcher(serial);
        assertThat(clock.find()).as(outcome.toString()).isTrue();
        assertThat(Long.parseLong(clock.group(1)))
                .isCloseTo(Instant.now().getEpochSecond(), Offset.offset(BOOT_TIMEOUT.toSeconds() + 60));
        // poweroff (ACPI S5 through microvm's GED device) must end QEMU, with status 0.
        assertThat(outcome.exitedByItself()).as(outcome.toString()).isTrue();
        assertThat(outcome.exitStatus()).as(outcome.toString()).isZero();
        assertThat(serial).doesNotContain("Kernel panic");
    }
}
