package dev.kiln.vm.qemu;

import dev.kiln.vm.Drive;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** VMs that cannot come up: a clear {@link VmBootException} ending with the console, and nothing left running. */
class BootFailureTest {
    static QemuLauncher launcher;
    @TempDir
    static Path logs;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        launcher = new QemuLauncher(VmTests.options(logs));
    }

    @AfterAll
    static void close() {
        if (launcher != null) launcher.close();
    }

    @AfterEach
    void nothingLeftRunning() {
        assertThat(VmTests.runningQemuChildren()).as("QEMU processes left by a failed boot").isEmpty();
        assertThat(launcher.running()).isEmpty();
    }

    static VmSpec with(VmSpec s, Path kernel, Path rootfs) {
        return new VmSpec(s.name(), kernel, rootfs, s.rootfsType(), s.drives(), s.memoryMiB(), s.vcpus(), s.kernelArgs(),
                s.workDir(), s.bootTimeout());
    }

    @Test
    void missingKernelSaysHowToBuildOne() throws Exception {
        VmSpec s = with(VmTests.spec("nokernel", dir.resolve("w")), dir.resolve("no-vmlinux"), TestImages.runtime());
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        assertThat(e.reason()).isEqualTo(VmBootException.Reason.INVALID_SPEC);
        assertThat(e).hasMessageContaining("the guest kernel").hasMessageContaining("does not exist")
                .hasMessageContaining("kiln kernel build");
    }

    @Test
    void missingRuntimeImageIsNamed() throws Exception {
        Path missing = dir.resolve("gone.squashfs");
        VmSpec s = with(VmTests.spec("norootfs", dir.resolve("w")), TestImages.kernel(), missing);
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        assertThat(e).hasMessageContaining("the runtime image " + missing).hasMessageContaining("does not exist");
    }

    @Test
    void missingDriveIsNamed() throws Exception {
        VmSpec base = VmTests.spec("nodrive", dir.resolve("w"));
        VmSpec s = new VmSpec(base.name(), base.kernel(), base.rootfs(), null, List.of(new Drive("code", dir.resolve("code.sqfs"), true)),
                256, 1, null, base.workDir(), null);
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        assertThat(e).hasMessageContaining("drive 'code'").hasMessageContaining("does not exist");
    }

    @Test
    void aFileThatIsNoKernelFailsWithQemusReasonAndTheConsole() throws Exception {
        Path bogus = Files.write(dir.resolve("vmlinux"), "this is not a kernel\n".repeat(1000).getBytes());
        VmSpec s = with(VmTests.spec("badkernel", dir.resolve("w")), bogus, TestImages.runtime());
        long t0 = System.nanoTime();
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("fails fast, not at the boot timeout").isLessThan(Duration.ofSeconds(10));
        assertThat(e.reason()).isEqualTo(VmBootException.Reason.VMM_EXITED);
        assertThat(e).hasMessageContaining("QEMU exited").hasMessageContaining("before the guest agent said hello")
                .hasMessageContaining("QEMU said: qemu: invalid kernel header");
        assertThat(e.getMessage()).containsPattern("--- console \\(last \\d+ lines of .*console.log\\) ---\n");
        // The console log is kept for later reading, with QEMU's own complaint appended.
        Path kept = VmTests.archivedLogs(logs, "vm-badkernel-").getFirst();
        assertThat(e).hasMessageContaining(kept.toString());
        assertThat(Files.readString(kept)).contains("--- QEMU's own output ---").contains("invalid kernel header");
        assertThat(dir.resolve("w")).doesNotExist();
    }

    @Test
    void anImageTheKernelCannotMountSaysSoAndEndsWithTheConsoleTail() throws Exception {
        Path zeros = dir.resolve("zeros.squashfs");
        try (var f = new java.io.RandomAccessFile(zeros.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        VmSpec s = with(VmTests.spec("badroot", dir.resolve("w")), TestImages.kernel(), zeros);
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        assertThat(e).hasMessageContaining("could not mount the runtime image").hasMessageContaining("squashfs");
        String message = e.getMessage();
        String tail = message.substring(message.indexOf("--- console"));
        assertThat(tail).contains("Kernel panic");
    }

    @Test
    void anInitThatNeverSaysHelloTimesOutAndIsKilled() throws Exception {
        // /bin/sh as PID 1 reads the console, which never sends anything: the guest lives, silently.
        VmSpec s = VmTests.spec("silent", dir.resolve("w"), List.of("init=/bin/sh"), Duration.ofSeconds(6));
        long t0 = System.nanoTime();
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(e.reason()).isEqualTo(VmBootException.Reason.TIMEOUT);
        assertThat(e).hasMessageContaining("the guest agent did not say hello within 6 s");
        assertThat(e.getMessage()).containsPattern("--- console .*---\n");
        assertThat(took).isBetween(Duration.ofSeconds(6), Duration.ofSeconds(15));
    }

    @Test
    void badKernelArgumentIsRefusedBeforeAnythingStarts() throws Exception {
        VmSpec s = VmTests.spec("badarg", dir.resolve("w"), List.of("two words"), null);
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> launcher.launch(s));
        assertThat(e).hasMessageContaining("kernel argument 'two words' must be one word");
    }

    @Test
    void aClosedLauncherBootsNothing() throws Exception {
        QemuLauncher closed = new QemuLauncher(VmTests.options(logs));
        closed.close();
        closed.close();
        VmBootException e = catchThrowableOfType(VmBootException.class, () -> closed.launch(VmTests.spec("late", dir.resolve("w"))));
        assertThat(e.reason()).isEqualTo(VmBootException.Reason.LAUNCHER_CLOSED);
        assertThat(e).hasMessageContaining("launcher is closed");
    }
}
