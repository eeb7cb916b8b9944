package dev.kiln.vm.qemu;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.runtime.BuiltRuntime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One QEMU microvm (TCG) booting a runtime image the way the node does: the image as a read-only
 * virtio-blk root, init0 as init, the agent's virtio-serial port named {@code kiln} on a Unix
 * socket QEMU listens on. A raw command line rather than
 * {@link QemuLauncher}, so the test checks the image alone, not the launcher too. Closing it always kills QEMU.
 */
final class GuestBoot implements AutoCloseable {

    private final Process qemu;
    private final Path serial;
    private final Path socket;
    private final List<String> command;

    private GuestBoot(Process qemu, Path serial, Path socket, List<String> command) {
        this.qemu = qemu;
        this.serial = serial;
        this.socket = socket;
        this.command = command;
    }

    static GuestBoot start(GuestKernel kernel, BuiltRuntime runtime, Path dir) throws IOException {
        Path serial = dir.resolve("serial.log");
        Path socket = dir.resolve("agent.sock");
        String append = String.join(" ", "console=ttyS0", "quiet", "panic=-1", "root=/dev/vda", "ro",
                "rootfstype=" + runtime.filesystem(), "init=/sbin/init", HostTsc.detect().kernelArguments(),
                "random.trust_cpu=on", "kiln.runtime=" + runtime.imageHash().value());
        List<String> command = new ArrayList<>(List.of("qemu-system-x86_64",
                "-accel", "tcg", "-cpu", "max",
                "-machine", "microvm", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-m", "256", "-smp", "1",
                "-kernel", kernel.vmlinux().toString(),
                "-append", append,
                "-serial", "file:" + serial,
                "-drive", "id=root,if=none,format=raw,readonly=on,file=" + runtime.image(),
                "-device", "virtio-blk-device,drive=root",
                "-device", "virtio-serial-device",
                "-chardev", "socket,id=agent,path=" + socket + ",server=on,wait=off",
                "-device", "virtserialport,chardev=agent,name=kiln"));
        Process qemu = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("qemu-output.txt").toFile()).start();
        return new GuestBoot(qemu, serial, socket, command);
    }

    /** Waits for QEMU to create the agent's socket. */
    Path socket(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(socket)) {
            if (!qemu.isAlive()) throw new IOException("QEMU exited early:\n" + describe());
            if (System.nanoTime() > deadline) throw new IOException("QEMU made no socket in " + timeout + ":\n" + describe());
            Thread.sleep(20);
        }
        return socket;
    }

    /** True if QEMU ended by itself (the guest powered off) within {@code timeout}. */
    boolean exited(Duration timeout) throws InterruptedException {
        return qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int exitStatus() {
        return qemu.exitValue();
    }

    String serialConsole() throws IOException {
        return Files.exists(serial) ? Files.readString(serial) : "";
    }

    String describe() {
        String console;
        try {
            console = serialConsole();
        } catch (IOException e) {
            console = "(unreadable: " + e.getMessage() + ")";
        }
        return "$ " + String.join(" ", command) + "\n--- serial console ---\n" + console;
    }

    @Override
    public void close() throws InterruptedException {
        if (qemu.isAlive()) {
            qemu.destroyForcibly();
            qemu.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
