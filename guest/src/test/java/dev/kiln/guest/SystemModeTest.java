package dev.kiln.guest;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * System mode (volumes, network, hostname) for real, inside private network, mount and UTS
 * namespaces so that nothing touches this machine: the agent runs with --system on, not as PID 1
 * (so it never tries to power anything off).
 */
class SystemModeTest {
    @TempDir
    Path dir;

    @Test
    void mountsVolumesConfiguresTheNetworkAndSetsTheHostname() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
        Assumptions.assumeTrue(Pythons.onPath("unshare") && Pythons.onPath("ip"), "needs unshare and ip (util-linux, iproute2)");
        Pythons.Python inNamespaces = new Pythons.Python(Path.of("unshare"), List.of("--net", "--mount", "--uts", "sh", "-c",
                "ip link add eth0 type veth peer name peer0 && ip link set peer0 up && exec \"$@\"", "sh",
                Pythons.full().executable().toString()), null);
        try (AgentProcess agent = AgentProcess.start(dir, inNamespaces, Map.of("KILN_SYSTEM", "on"))) {
            GuestConnection guest = agent.connection;
            assertThat(guest.hello().system()).isTrue();
            assertThat(guest.hello().pid1()).isFalse();
            assertThat(guest.hello().capabilities()).contains("mount", "network", "hostname", "code:squashfs")
                    .doesNotContain("poweroff");
            Configured c = guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                            ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi"))))
                    .volume(new ProgramConfig.Volume("/dev/null", "/opt/venv", false, "tmpfs"))
                    .network(new ProgramConfig.Network("eth0", "172.16.3.2/24", "172.16.3.1", List.of("9.9.9.9", "1.1.1.1")))
                    .hostname("vm-0f202000").build());
            assertThat(c.skipped()).isEmpty();

            assertThat(read(guest, "/proc/sys/kernel/hostname")).isEqualTo("vm-0f202000\n");
            assertThat(read(guest, "/proc/self/mounts")).contains(agent.root.resolve("opt/venv") + " tmpfs rw");
            assertThat(read(guest, "/proc/net/fib_trie")).contains("172.16.3.2");
            // Default route via 172.16.3.1 (little-endian hex in /proc/net/route), and lo is up.
            assertThat(read(guest, "/proc/net/route")).containsPattern("eth0\\s+00000000\\s+010310AC");
            assertThat(Integer.decode(read(guest, "/sys/class/net/lo/flags").trim()) & 1).isEqualTo(1);
            assertThat(Files.readString(agent.root.resolve("etc/resolv.conf"))).isEqualTo("nameserver 9.9.9.9\nnameserver 1.1.1.1\n");
        }
    }

    private static String read(GuestConnection guest, String path) {
        return guest.request(GuestRequest.get("/file").withQuery("path=" + path)).bodyText();
    }
}
