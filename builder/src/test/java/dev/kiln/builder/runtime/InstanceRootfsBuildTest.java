package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.testing.TestBuilds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The instance-rootfs kind as built: the official Debian 12 image (cached in the test home, shared
 * with the node's InstanceNodeTest) has systemd as /sbin/init, no SSH host keys, Kiln's NoCloud-only
 * data-source setting and no Kiln init; and builds whose archive cannot be used stop at once.
 */
class InstanceRootfsBuildTest {

    @TempDir
    Path images;

    @Test
    void theDebian12InstanceImageBootsSystemdAndCarriesNoPerInstanceIdentity() throws Exception {
        BuiltRuntime rt = TestBuilds.runtime("debian-12-instance");
        assertThat(rt.filesystem()).isEqualTo("ext4");

        assertThat(debugfs(rt.image(), "stat /sbin/init")).contains("Type: symlink").contains("systemd");
        assertThat(debugfs(rt.image(), "ls -l /etc/ssh")).contains("sshd_config").doesNotContain("ssh_host_");
        assertThat(debugfs(rt.image(), "cat " + InstallSystemdStep.CLOUD_CONFIG)).contains("datasource_list: [NoCloud, None]");
        assertThat(debugfs(rt.image(), "cat /etc/kiln/runtime")).contains("kind=instance-rootfs");
        assertThat(debugfs(rt.image(), "stat /root/kiln_init1")).contains("File not found");
        String machineId = debugfs(rt.image(), "stat /etc/machine-id");
        assertThat(machineId).contains("Size: 0");
    }

    @Test
    void anArchiveThatDoesNotAnswerStopsTheBuildAtOnceNamingIt() {
        // Port 9 (discard) on loopback: nothing listens, so the archive "does not answer".
        RuntimeSpec spec = RuntimeSpecs.parse("""
                spec: 1
                kind: instance-rootfs
                name: unreachable-instance
                base: {suite: bookworm, mirror: 'http://127.0.0.1:9/debian'}
                packages: {apt: [systemd-sysv, openssh-server, cloud-init]}
                output: {format: ext4}
                """, "test", null);
        long start = System.nanoTime();
        assertThatThrownBy(() -> new RuntimeBuilder(TestBuilds.kilnHome(), images, BuildListener.SILENT).build(spec))
                .isInstanceOfSatisfying(RuntimeBuildException.class, e -> {
                    assertThat(e.step()).isEqualTo("BootstrapBase");
                    assertThat(e.getMessage()).contains("http://127.0.0.1:9/debian/dists/bookworm/InRelease")
                            .contains("not reachable from this machine");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMinutes(1));
    }

    @Test
    void ubuntuWithoutItsKeyringStopsAtOnceNamingThePackage() {
        assumeFalse(Files.exists(ArchiveCheck.UBUNTU_KEYRING), "this host can verify Ubuntu's archive");
        RuntimeSpec spec = RuntimeSpecs.official("ubuntu-22.04-instance");
        assertThatThrownBy(() -> new RuntimeBuilder(TestBuilds.kilnHome(), images, BuildListener.SILENT).build(spec))
                .isInstanceOfSatisfying(RuntimeBuildException.class, e -> {
                    assertThat(e.step()).isEqualTo("BootstrapBase");
                    // Whichever is the case here: the archive does not answer, or it does and cannot be verified.
                    assertThat(e.getMessage()).containsAnyOf("install the ubuntu-keyring package", "not reachable from this machine");
                });
    }

    private static String debugfs(Path image, String request) throws Exception {
        return ExternalCommand.of(image.getParent(), "debugfs", "-R", request, image.toString()).capture(Duration.ofMinutes(1));
    }
}
