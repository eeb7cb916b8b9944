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
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Debian 12 instance-rootfs, built by the builder, boots on real QEMU with its own systemd,
 * takes hostname, key and variables from Kiln's NoCloud seed through the guest's real cloud-init,
 * and a real OpenSSH client logs in as root through the forwarded port; the guest's power-off ends
 * its QEMU, and the parent image is unchanged. One boot: reboots keeping the disk, and re-adoption
 * across node restarts, are checked by the node's InstanceNodeTest on the same image.
 *
 * <p>Networking here is QEMU user mode with {@code hostfwd=tcp:127.0.0.1:PORT-:22}, acceptable at
 * this VM level; the node uses TAP devices and nftables forwards from the network module.
 */
class InstanceBootTest {

    /** First boots under TCG on a loaded 2-core host take minutes (cloud-init makes host keys). */
    private static final Duration SSH_WAIT = Duration.ofMinutes(8);

    @Test
    void aDebian12InstanceServesSshPowersOffAndLeavesItsParentAlone(@TempDir Path dir) throws Exception {
        GuestKernel kernel = TestBuilds.kernel();
        BuiltRuntime parent = TestBuilds.runtime("debian-12-instance");
        ItemHash parentBefore = ItemHash.sha256Of(parent.image());

        Path key = dir.resolve("id_ed25519");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString()));
        String publicKey = Files.readString(dir.resolve("id_ed25519.pub")).strip();
        Path seed = new SeedDrive("kiln-test-instance-1", "kiln-instance", List.of(publicKey),
                Map.of("VM_CUSTOM_NUMBER", "32")).write(dir.resolve("seed.iso"));
        InstanceDisk disk = InstanceDisk.open(dir.resolve("disk.qcow2"), parent.image(), "raw", 2048);
        int port = freeLoopbackPort();
        InstanceSpec spec = new InstanceSpec("instance-test", kernel.vmlinux(), disk.file(), seed, 512, 1, port, dir);
        InstanceLauncher launcher = new InstanceLauncher("qemu-system-x86_64", Accelerator.TCG, HostTsc.detect());

        try (InstanceVm vm = launcher.start(spec)) {
            long ms = awaitSsh(vm, key, port);
            System.out.println("instance first boot (TCG): cloud-init done, SSH answering after " + ms + " ms");
            assertThat(ssh(key, port, "hostname")).isEqualTo("kiln-instance");
            assertThat(ssh(key, port, "cat /proc/1/comm")).isEqualTo("systemd");
            assertThat(ssh(key, port, "cat " + SeedDrive.VARIABLES_PATH)).isEqualTo("VM_CUSTOM_NUMBER=32");
            // cloud-init's resizefs grew the root filesystem to the disk's 2 GiB.
            long rootBytes = Long.parseLong(ssh(key, port, "df -B1 --output=size / | tail -1").strip());
            assertThat(rootBytes).isGreaterThan(Files.size(parent.image()));
            assertThat(forwardReachableOffLoopback(port)).as("SSH forward bound to loopback only").isFalse();
            assertThat(InstanceLauncher.adopt(spec)).as("the running QEMU is recognised by its pid file and command line")
                    .hasValueSatisfying(adopted -> assertThat(adopted.pid()).isEqualTo(vm.pid()));
            sshIgnoringDisconnect(key, port, "systemctl poweroff");
            assertThat(vm.awaitExit(Duration.ofMinutes(3))).as("QEMU exits when the guest powers off").isTrue();
            assertThat(InstanceLauncher.adopt(spec)).as("a pid file of a QEMU that is gone adopts nothing").isEmpty();
        }
        assertThat(ItemHash.sha256Of(parent.image())).isEqualTo(parentBefore);
    }

    private static long awaitSsh(InstanceVm vm, Path key, int port) throws Exception {
        long deadline = System.nanoTime() + SSH_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(vm.running()).as("QEMU still runs; console:\n" + tail(vm.console())).isTrue();
            // Ready means cloud-init has finished: until then it may restart sshd (it rewrites
            // sshd_config), dropping a session; a dropped wait is simply retried.
            Result r = sshStatus(key, port, "cloud-init status --wait --long", Duration.ofMinutes(4));
            if (r.status() == 0) return (System.nanoTime() - vm.startedNs()) / 1_000_000;
            // 255: ssh could not connect or lost the session; -1: our timeout. Anything else is cloud-init's verdict.
            if (r.status() != 255 && r.status() != -1) throw new AssertionError("cloud-init did not finish cleanly:\n" + r.output());
            Thread.sleep(2000);
        }
        throw new AssertionError("no SSH login within " + SSH_WAIT + "; console:\n" + tail(vm.console()));
    }

    private static String ssh(Path key, int port, String command) throws Exception {
        Result r = sshStatus(key, port, command, Duration.ofSeconds(60));
        assertThat(r.status()).as("ssh " + command + ": " + r.output()).isZero();
        return r.output().strip();
    }

    private static void sshIgnoringDisconnect(Path key, int port, String command) throws Exception {
        sshStatus(key, port, command, Duration.ofSeconds(60));
    }

    private record Result(int status, String output) {
    }

    private static Result sshStatus(Path key, int port, String command, Duration timeout) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ssh", "-i", key.toString(), "-p", Integer.toString(port),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "root@127.0.0.1", command));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
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

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + out).isZero();
    }

    private static String tail(String text) {
        return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    }
}
