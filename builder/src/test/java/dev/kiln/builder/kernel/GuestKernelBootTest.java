package dev.kiln.builder.kernel;

import dev.kiln.builder.testing.TestBuilds;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Builds the guest kernel for real (or reuses the suite's cached one, see {@link TestBuilds}) and
 * boots it under QEMU microvm with TCG, as the VM driver will.
 */
class GuestKernelBootTest {

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
    void theBuildRecordsAnUncompressedVmlinuxAndItsHash() throws Exception {
        assertThat(kernel.vmlinux()).isRegularFile();
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(kernel.vmlinux())) {
            assertThat(in.read(head)).isEqualTo(4);
        }
        assertThat(head).containsExactly(0x7f, 'E', 'L', 'F');
        assertThat(kernel.sizeBytes()).isEqualTo(Files.size(kernel.vmlinux()));
        assertThat(kernel.sha256()).isEqualTo(dev.kiln.core.hash.ItemHash.sha256Of(kernel.vmlinux()));
        assertThat(kernel.kernelRelease()).startsWith("6.1.");
        assertThat(kernel.vmlinux().getParent().resolve("kernel.json")).isRegularFile();
    }

    @Test
    void theRecordedConfigHasEveryOptionOfTheFragment() throws IOException {
        KernelConfig config = KernelConfig.parse(Files.readString(kernel.config()));

        assertThat(KernelRecipe.standard().droppedIn(config)).isEmpty();
    }

    @Test
    void aSecondBuildIsAVerifiedCacheHit() throws Exception {
        long start = System.nanoTime();
        GuestKernel again = new KernelBuilder(TestBuilds.kilnHome(), ProgressListener.SILENT).build();
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(again.fromCache()).isTrue();
        assertThat(again.vmlinux()).isEqualTo(kernel.vmlinux());
        assertThat(again.sha256()).isEqualTo(kernel.sha256());
        assertThat(took).isLessThan(Duration.ofSeconds(3));
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
        java.util.regex.Matcher clock = java.util.regex.Pattern.compile("KILN-PROBE wall-clock ok (\\d+)").matcher(serial);
        assertThat(clock.find()).as(outcome.toString()).isTrue();
        assertThat(Long.parseLong(clock.group(1)))
                .isCloseTo(java.time.Instant.now().getEpochSecond(), org.assertj.core.data.Offset.offset(BOOT_TIMEOUT.toSeconds() + 60));
        // poweroff (ACPI S5 through microvm's GED device) must end QEMU, with status 0.
        assertThat(outcome.exitedByItself()).as(outcome.toString()).isTrue();
        assertThat(outcome.exitStatus()).as(outcome.toString()).isZero();
        assertThat(serial).doesNotContain("Kernel panic");
    }
}
