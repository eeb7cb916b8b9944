package dev.kiln.vm.instance;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.qemu.HostTsc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Debian 12 instance-rootfs, built by the builder, boots on real QEMU with its own systemd,
 * takes hostname, key and variables from Kiln's NoCloud seed through the guest's real cloud-init,
 * and a real OpenSSH client logs in as root through the forwarded port. One instance, two boots:
 * a file written in the first is there after the guest powers off and the same disk boots again,
 * and the parent image is unchanged.
 *
 * <p>Networking here is QEMU user mode with {@code hostfwd=tcp:127.0.0.1:PORT-:22}, acceptable at
 * this VM level; the node uses TAP devices and nftables forwards from the network module.
 */
class InstanceBootTest {

    @Test
    void aDebian12InstanceServesSshKeepsItsDiskAcrossRebootAndLeavesItsParentAlone(@TempDir Path dir) throws Exception {
        GuestKernel kernel = TestBuilds.kernel();
        BuiltRuntime parent = TestBuilds.runtime("debian-12-instance");
        ItemHash parentBefore = ItemHash.sha256Of(parent.image());

        InstanceSsh ssh = InstanceSsh.create(dir);
        int port = ssh.port();
        Path seed = new SeedDrive("kiln-test-instance-1", "kiln-instance", List.of(ssh.publicKey()),
                Map.of("VM_CUSTOM_NUMBER", "32")).write(dir.resolve("seed.iso"));
        InstanceDisk disk = InstanceDisk.open(dir.resolve("disk.qcow2"), parent.image(), "raw", 2048);
        InstanceSpec spec = new InstanceSpec("instance-test", kernel.vmlinux(), disk.file(), seed, 512, 1, port, dir);
        InstanceLauncher launcher = new InstanceLauncher("qemu-system-x86_64", Accelerator.TCG, HostTsc.detect());

        String firstBootId;
        try (InstanceVm vm = launcher.start(spec)) {
            long ms = ssh.awaitLogin(vm);
            System.out.println("instance first boot (TCG): cloud-init done, SSH answering after " + ms + " ms");
            assertThat(ssh.run("hostname")).isEqualTo("kiln-instance");
            assertThat(ssh.run("cat /proc/1/comm")).isEqualTo("systemd");
            assertThat(ssh.run("cat " + SeedDrive.VARIABLES_PATH)).isEqualTo("VM_CUSTOM_NUMBER=32");
            // cloud-init's resizefs grew the root filesystem to the disk's 2 GiB.
            long rootBytes = Long.parseLong(ssh.run("df -B1 --output=size / | tail -1").strip());
            assertThat(rootBytes).isGreaterThan(Files.size(parent.image()));
            assertThat(forwardReachableOffLoopback(port)).as("SSH forward bound to loopback only").isFalse();
            firstBootId = ssh.run("cat /proc/sys/kernel/random/boot_id");
            ssh.run("echo kept-across-reboot > /root/marker && sync");
            ssh.runIgnoringDisconnect("systemctl poweroff");
            assertThat(vm.awaitExit(Duration.ofMinutes(3))).as("QEMU exits when the guest powers off").isTrue();
        }

        try (InstanceVm vm = launcher.start(spec)) {
            long ms = ssh.awaitLogin(vm);
            System.out.println("instance second boot (TCG): cloud-init done, SSH answering after " + ms + " ms");
            assertThat(ssh.run("cat /proc/sys/kernel/random/boot_id")).isNotEqualTo(firstBootId);
            assertThat(ssh.run("cat /root/marker")).isEqualTo("kept-across-reboot");
        }
        assertThat(ItemHash.sha256Of(parent.image())).isEqualTo(parentBefore);
    }

    /** Connects to the forwarded port on one of the host's non-loopback IPv4 addresses, if it has one. */
    private static boolean forwardReachableOffLoopback(int port) throws IOException {
        Optional<InetAddress> other = NetworkInterface.networkInterfaces()
                .filter(i -> { try { return i.isUp() && !i.isLoopback(); } catch (IOException e) { return false; } })
                .flatMap(NetworkInterface::inetAddresses).filter(a -> a instanceof Inet4Address).findFirst();
        if (other.isEmpty()) return false;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(other.get(), port), 2000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }
}
