package dev.kiln.vm.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmAdoption;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmNic;
import dev.kiln.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adoption never touches a process that is not the recorded VM (pids are reused): a live process
 * whose command line is not the recorded one is "gone" to adoption and left alone by discard. No
 * QEMU here: the stand-in is a real {@code sleep} process, which is exactly what must survive.
 */
class AdopterTest {
    @TempDir
    Path dir;
    Process sleeper;
    QemuLauncher launcher;

    @BeforeEach
    void start() throws Exception {
        sleeper = new ProcessBuilder("sleep", "300").start();
        launcher = new QemuLauncher(QemuLauncher.Options.in(dir.resolve("kiln")));
    }

    @AfterEach
    void stop() {
        sleeper.destroyForcibly();
        launcher.close();
    }

    private VmSpec spec(Path work) throws Exception {
        Path kernel = Files.writeString(dir.resolve("vmlinux"), "k");
        Path root = Files.writeString(dir.resolve("root.img"), "r");
        return new VmSpec("prog", kernel, root, "squashfs", List.of(new Drive("code", root, true)), 128, 1,
                List.of("a=b", "c"), work, Duration.ofSeconds(30), new VmNic("kiln-t1", "aa:bb:cc:dd:ee:01"));
    }

    private DetachedVmFile recordFor(Path work, long pid, List<String> command) throws Exception {
        long start = ProcessHandle.of(pid).orElseThrow().info().startInstant().orElseThrow().toEpochMilli();
        return new DetachedVmFile("vm-prog-1", spec(work), command, pid, start, Accelerator.TCG,
                Instant.parse("2026-12-03T07:00:00Z"), Duration.ofMillis(1234));
    }

    @Test
    void theRecordReadsBackAsWritten() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        DetachedVmFile f = recordFor(work, sleeper.pid(), List.of("qemu-system-x86_64", "-name", "kiln-prog", "-append", "x y"));
        f.write();
        assertThat(DetachedVmFile.read(work)).contains(f);
        assertThat(DetachedVmFile.read(dir)).isEmpty();
    }

    @Test
    void aLiveProcessRunningAnotherCommandIsNeitherAdoptedNorKilled() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        recordFor(work, sleeper.pid(), List.of("qemu-system-x86_64", "-name", "kiln-prog")).write();
        assertThatThrownBy(() -> launcher.adopt(new VmAdoption("vm-prog-1", work, sleeper.pid())))
                .isInstanceOfSatisfying(VmBootException.class, e -> assertThat(e.reason()).isEqualTo(VmBootException.Reason.VMM_EXITED));
        assertThat(sleeper.isAlive()).isTrue();
        assertThat(work).doesNotExist();

        Path other = Files.createDirectories(dir.resolve("other"));
        recordFor(other, sleeper.pid(), List.of("qemu-system-x86_64")).write();
        launcher.discard(other);
        assertThat(sleeper.isAlive()).isTrue();
        assertThat(other).doesNotExist();
    }

    @Test
    void withoutARecordOnlyAProcessNamingTheVmsMonitorCouldBeIt() throws Exception {
        Path work = Files.createDirectories(dir.resolve("bare"));
        assertThatThrownBy(() -> launcher.adopt(new VmAdoption("vm-prog-1", work, sleeper.pid())))
                .isInstanceOf(VmBootException.class).hasMessageContaining("is gone");
        assertThat(sleeper.isAlive()).isTrue();
    }

    @Test
    void theRecordedArgumentsMustMatchExactly() throws Exception {
        Path work = Files.createDirectories(dir.resolve("exact"));
        assertThat(recordFor(work, sleeper.pid(), List.of("sleep", "300")).isRunningHere()).isTrue();
        assertThat(recordFor(work, sleeper.pid(), List.of("sleep", "301")).isRunningHere()).isFalse();
        assertThat(recordFor(work, sleeper.pid(), List.of("sleep", "300", "1")).isRunningHere()).isFalse();
        assertThat(recordFor(work, sleeper.pid(), List.of("/some/wrapper-of-sleep", "300")).isRunningHere())
                .as("a wrapper that exec'd the VMM under its own name (ip netns exec): the arguments are what count").isTrue();
        DetachedVmFile f = recordFor(work, sleeper.pid(), List.of("sleep", "300"));
        assertThat(new DetachedVmFile(f.vmId(), f.spec(), f.command(), f.pid(), f.pidStartMillis() - 10_000, f.accelerator(),
                f.startedAt(), f.boot()).isRunningHere()).as("another process start: a reused pid").isFalse();
    }
}
