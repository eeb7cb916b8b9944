package dev.kiln.vm.instance;

import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.qemu.HostTsc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A disk-image instance: the Debian 12 cloud-style disk built by the builder (MBR, GRUB, Debian's
 * cloud kernel and initramfs) boots on QEMU's PC machine through SeaBIOS under TCG, with a qcow2
 * overlay as its disk and Kiln's NoCloud seed; a real OpenSSH client logs in as root. One boot
 * shared by every check.
 */
class DiskImageBootTest {

    @Test
    void theDebian12CloudDiskBootsItsOwnKernelThroughGrubAndServesSsh(@TempDir Path dir) throws Exception {
        BuiltRuntime parent = TestBuilds.runtime("debian-12-cloud");
        ItemHash parentBefore = ItemHash.sha256Of(parent.image());

        InstanceSsh ssh = InstanceSsh.create(dir);
        Path seed = new SeedDrive("kiln-test-disk-1", "kiln-disk", List.of(ssh.publicKey()),
                Map.of("VM_CUSTOM_NUMBER", "13")).write(dir.resolve("seed.iso"));
        InstanceDisk disk = InstanceDisk.open(dir.resolve("disk.qcow2"), parent.image(), "raw", 3072);
        InstanceSpec spec = new InstanceSpec("disk-test", new InstanceBoot.FirmwareBoot(), disk.file(), seed, 512, 1,
                ssh.port(), dir);
        InstanceLauncher launcher = new InstanceLauncher("qemu-system-x86_64", Accelerator.TCG, HostTsc.detect());

        try (InstanceVm vm = launcher.start(spec)) {
            long ms = ssh.awaitLogin(vm);
            System.out.println("disk-image instance first boot (TCG, pc + SeaBIOS + GRUB): cloud-init done, SSH answering after "
                    + ms + " ms");
            // GRUB from the disk's MBR loaded the kernel: it says so on the serial console.
            assertThat(vm.console()).contains("Loading /vmlinuz");
            assertThat(ssh.run("uname -r")).endsWith("-cloud-amd64");
            assertThat(ssh.run("cat /proc/cmdline")).contains("root=UUID=").doesNotContain("tsc_early_khz");
            assertThat(ssh.run("cloud-init status")).contains("status: done");
            assertThat(ssh.run("hostname")).isEqualTo("kiln-disk");
            assertThat(ssh.run("cat /proc/1/comm")).isEqualTo("systemd");
            assertThat(ssh.run("cat " + SeedDrive.VARIABLES_PATH)).isEqualTo("VM_CUSTOM_NUMBER=13");
            assertThat(ssh.run("findmnt -n -o SOURCE /")).isEqualTo("/dev/vda1");
            // growpart grew the partition and resizefs the filesystem into the 3 GiB overlay.
            long rootBytes = Long.parseLong(ssh.run("df -B1 --output=size / | tail -1").strip());
            assertThat(rootBytes).isGreaterThan(Files.size(parent.image()));
            ssh.runIgnoringDisconnect("systemctl poweroff");
        }
        assertThat(ItemHash.sha256Of(parent.image())).isEqualTo(parentBefore);
    }
}
