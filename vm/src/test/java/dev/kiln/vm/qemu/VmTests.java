package dev.kiln.vm.qemu;

import dev.kiln.guest.ProgramConfig;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What the VM tests share: specs of the test images, the test program, process checks. */
final class VmTests {
    private VmTests() {
    }

    static VmSpec spec(String name, Path workDir) throws Exception {
        return spec(name, workDir, List.of(), Duration.ofSeconds(30));
    }

    static VmSpec spec(String name, Path workDir, List<String> kernelArgs, Duration bootTimeout) throws Exception {
        return new VmSpec(name, TestImages.kernel(), TestImages.runtime(), "squashfs", List.<Drive>of(), 256, 1,
                kernelArgs, workDir, bootTimeout);
    }

    /** The test home's run directory (the KVM probe is remembered there), console logs in {@code logs}. */
    static QemuLauncher.Options options(Path logs) throws Exception {
        return QemuLauncher.Options.in(TestImages.kilnHome()).withKernel(TestImages.kernel())
                .withConsoleLogs(logs, QemuLauncher.Options.DEFAULT_CONSOLE_LOGS_KEPT);
    }

    /** The archived console logs of VMs whose id contains {@code name}. */
    static List<Path> archivedLogs(Path logs, String name) throws IOException {
        try (var files = java.nio.file.Files.list(logs)) {
            return files.filter(f -> f.getFileName().toString().contains(name)).sorted().toList();
        }
    }

    /** The raw-socket HTTP server of hello-server.py, as an executable program on port 8080. */
    static ProgramConfig helloProgram(String hostname) throws IOException {
        byte[] source;
        try (InputStream in = VmTests.class.getResourceAsStream("hello-server.py")) {
            source = in.readAllBytes();
        }
        return ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE, ProgramConfig.Code.plain("program", source))
                .variable("PORT", "8080").variable("GREETING", "from-the-test").port(8080).hostname(hostname)
                .startupTimeout(Duration.ofSeconds(20)).build();
    }

    /** copy-probe.py (randomness and clock of the guest, per request), as an executable program on port 8080. */
    static ProgramConfig copyProbeProgram(String hostname) throws IOException {
        byte[] source;
        try (InputStream in = VmTests.class.getResourceAsStream("copy-probe.py")) {
            source = in.readAllBytes();
        }
        return ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE, ProgramConfig.Code.plain("program", source))
                .port(8080).hostname(hostname).startupTimeout(Duration.ofSeconds(20)).build();
    }

    /** QEMU processes started by this JVM that are still running (zombies do not count). */
    static List<ProcessHandle> runningQemuChildren() {
        return ProcessHandle.current().descendants()
                .filter(h -> h.info().command().orElse("").contains("qemu"))
                .filter(h -> isRunning(h.pid()))
                .toList();
    }

    /** The process exists and is not a zombie (a zombie has exited; only its parent has not reaped it). */
    static boolean isRunning(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !VmmRegistry.isZombie(pid);
    }
}
