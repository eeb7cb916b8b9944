package dev.kiln.vm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Boots a kernel once under QEMU's microvm machine in the shape Kiln uses (TCG, PVH entry,
 * serial console to a file, virtio-mmio devices), waits for QEMU to exit by itself and always
 * kills it when the time is up.
 */
final class QemuBoot {

    /** What a boot produced. {@code exitedByItself} is false when the timeout killed QEMU. */
    record Outcome(boolean exitedByItself, int exitStatus, String serial, String qemuOutput, Duration took, List<String> command) {
        @Override
        public String toString() {
            return "QEMU " + (exitedByItself ? "exited with " + exitStatus : "was killed after the timeout")
                    + " after " + took.toMillis() + " ms\n$ " + String.join(" ", command)
                    + "\n--- qemu output ---\n" + qemuOutput + "\n--- serial console ---\n" + serial;
        }
    }

    private QemuBoot() {
    }

    /** The base command: the fastest working shape measured on these machines (DESIGN.md). */
    static List<String> command(Path vmlinux, String append, Path serialLog) {
        return new ArrayList<>(List.of("qemu-system-x86_64",
                "-accel", "tcg", "-cpu", "max",
                "-machine", "microvm", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-m", "256", "-smp", "1",
                "-kernel", vmlinux.toString(),
                "-append", append,
                "-serial", "file:" + serialLog));
    }

    static Outcome run(List<String> command, Path workDir, Duration timeout) throws IOException, InterruptedException {
        Path serial = Path.of(command.get(command.indexOf("-serial") + 1).substring("file:".length()));
        Path qemuOutput = workDir.resolve("qemu-output.txt");
        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(qemuOutput.toFile()).start();
        boolean exited;
        try {
            exited = qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            if (qemu.isAlive()) {
                qemu.destroyForcibly();
                qemu.waitFor(10, TimeUnit.SECONDS);
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        return new Outcome(exited, exited ? qemu.exitValue() : -1,
                Files.exists(serial) ? Files.readString(serial) : "", Files.readString(qemuOutput), took, command);
    }
}
