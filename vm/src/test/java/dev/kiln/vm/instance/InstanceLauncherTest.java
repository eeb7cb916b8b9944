package dev.kiln.vm.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.qemu.HostTsc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The instance's QEMU command line (daemonized, loopback-only SSH forward, isolation without
 * internet, read-only and writable volumes with serials) and re-adoption, which must accept only the instance's own
 * process. No guest boots here: booting, SSH, power-off and re-adoption of a real QEMU are
 * checked by the node's InstanceNodeTest.
 */
class InstanceLauncherTest {
    final InstanceLauncher launcher = new InstanceLauncher("qemu-system-x86_64", Accelerator.TCG, new HostTsc(2_000_000, "test"));

    InstanceSpec spec(Path dir, boolean internet, List<Drive> volumes) {
        return new InstanceSpec("kiln-instance-abc", new InstanceBoot.KernelBoot(dir.resolve("vmlinux")), dir.resolve("disk.qcow2"),
                dir.resolve("seed.iso"), 512, 1, 40022, dir, internet, volumes, null);
    }

    @Test
    void theCommandLineDaemonizesForwardsSshOnLoopbackAndAttachesVolumesBySerial(@TempDir Path dir) {
        List<String> argv = launcher.commandLine(spec(dir, true, List.of(new Drive("volume0", dir.resolve("venv.squashfs"), true),
                new Drive("persist1", dir.resolve("data.ext4"), false))));
        String line = String.join(" ", argv);
        assertThat(argv).containsSubsequence("-daemonize", "-pidfile", dir.resolve("kiln-instance-abc.pid").toString());
        assertThat(line).contains("hostfwd=tcp:127.0.0.1:40022-:22").doesNotContain("restrict=on")
                .contains("tsc_early_khz=2000000")
                .contains("format=raw,readonly=on,file=" + dir.resolve("venv.squashfs"))
                .contains("virtio-blk-device,drive=vol0,serial=kiln-volume-0")
                // A writable volume: no readonly=on, so the guest's writes reach the image.
                .contains("id=vol1,if=none,format=raw,file=" + dir.resolve("data.ext4") + " ")
                .contains("virtio-blk-device,drive=vol1,serial=kiln-volume-1");
        assertThat(argv.get(argv.indexOf("-name") + 1)).isEqualTo("kiln-instance-abc");
    }

    @Test
    void withoutInternetTheUserNetworkIsRestrictedButStillForwardsSsh(@TempDir Path dir) {
        String line = String.join(" ", launcher.commandLine(spec(dir, false, List.of())));
        assertThat(line).contains("user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22");
    }

    @Test
    void adoptionTakesOnlyTheProcessThatNamesTheInstanceAndItsDisk(@TempDir Path dir) throws Exception {
        InstanceSpec spec = spec(dir, true, List.of());
        assertThat(InstanceLauncher.adopt(spec)).as("no pid file").isEmpty();
        Files.writeString(spec.pidFile(), ProcessHandle.current().pid() + "\n");
        assertThat(InstanceLauncher.adopt(spec)).as("a live pid that is some other program").isEmpty();
        Files.writeString(spec.pidFile(), "not a pid");
        assertThat(InstanceLauncher.adopt(spec)).isEmpty();

        // A stand-in process whose command line carries the instance's -name and disk, as its QEMU's does.
        String disk = "id=root,if=none,format=qcow2,file=" + spec.disk().toAbsolutePath();
        // sh (not python3: on some hosts that is a shim that execs on, changing the command line under
        // the test); "; :" keeps sh itself running rather than exec'ing sleep.
        Process other = new ProcessBuilder("/bin/sh", "-c", "sleep 60; :", "-name", "kiln-instance-other",
                "-drive", disk).start();
        Process same = new ProcessBuilder("/bin/sh", "-c", "sleep 60; :", "-name", spec.name(),
                "-drive", disk).start();
        try {
            awaitExec(other);
            awaitExec(same);
            Files.writeString(spec.pidFile(), Long.toString(other.pid()));
            assertThat(InstanceLauncher.adopt(spec)).as("another instance's process").isEmpty();
            Files.writeString(spec.pidFile(), Long.toString(same.pid()));
            assertThat(InstanceLauncher.adopt(spec)).hasValueSatisfying(vm -> {
                assertThat(vm.pid()).isEqualTo(same.pid());
                assertThat(vm.running()).isTrue();
            });
            same.destroy();
            same.waitFor(10, TimeUnit.SECONDS);
            assertThat(InstanceLauncher.adopt(spec)).as("the process is gone").isEmpty();
        } finally {
            other.destroyForcibly();
            same.destroyForcibly();
        }
    }

    /** Until the child has exec'd sh, /proc shows the JDK's spawn helper's command line. */
    static void awaitExec(Process p) throws InterruptedException {
        for (int i = 0; i < 100 && !QemuProcesses.commandLine(p.pid()).contains("-name"); i++) Thread.sleep(50);
    }

    @Test
    void aRootfsInstanceBootsKilnsKernelOnMicrovm(@TempDir Path dir) {
        List<String> a = launcher.commandLine(new InstanceSpec("vm", dir.resolve("vmlinux"), dir.resolve("disk.qcow2"),
                dir.resolve("seed.iso"), 512, 1, 2222, dir));
        assertThat(String.join(" ", a)).contains("-machine microvm").contains("-kernel ")
                .contains("virtio-blk-device,drive=root").contains("virtio-net-device,netdev=net0");
    }

    @Test
    void aDiskImageBootsThroughThePcMachinesFirmware(@TempDir Path dir) {
        List<String> a = launcher.commandLine(new InstanceSpec("vm", new InstanceBoot.FirmwareBoot(),
                dir.resolve("disk.qcow2"), dir.resolve("seed.iso"), 512, 1, 2222, dir, true, List.of(new Drive("volume0", dir.resolve("v.squashfs"), true)),
                null));
        String line = String.join(" ", a);
        assertThat(line).contains("-machine pc").contains("virtio-blk-pci,drive=root,bootindex=0")
                .contains("virtio-blk-pci,drive=seed").contains("virtio-net-pci,netdev=net0")
                .contains("virtio-blk-pci,drive=vol0").contains("hostfwd=tcp:127.0.0.1:2222-:22");
        // The image's GRUB has the command line: QEMU must not load a kernel or pass arguments.
        assertThat(a).doesNotContain("-kernel", "-append");
        assertThat(line).doesNotContain("tsc_early_khz").doesNotContain("microvm");
    }

    @Test
    void aGuestApiIsForwardedFromItsAddressToTheNodesSocketOnlyWhenGiven(@TempDir Path dir) {
        Path socket = dir.resolve("api,1.sock");
        String with = String.join(" ", launcher.commandLine(new InstanceSpec("vm", new InstanceBoot.FirmwareBoot(),
                dir.resolve("disk.qcow2"), dir.resolve("seed.iso"), 512, 1, 2222, dir, false, List.of(), socket)));
        // One netdev option: the comma in the path is doubled, the forward survives restrict=on.
        assertThat(with).contains("restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,guestfwd=tcp:10.0.2.100:80-cmd:socat STDIO"
                + " UNIX-CONNECT:'" + dir.resolve("api,,1.sock") + "'");
        assertThat(String.join(" ", launcher.commandLine(spec(dir, false, List.of())))).doesNotContain("guestfwd");
        assertThatThrownBy(() -> launcher.commandLine(new InstanceSpec("vm", new InstanceBoot.FirmwareBoot(),
                dir.resolve("disk.qcow2"), dir.resolve("seed.iso"), 512, 1, 2222, dir, true, List.of(), dir.resolve("a'b"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quote");
    }
}
