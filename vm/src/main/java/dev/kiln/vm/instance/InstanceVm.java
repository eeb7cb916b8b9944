package dev.kiln.vm.instance;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;

/**
 * A running instance VM: its QEMU process, which is not this JVM's child once started (QEMU
 * daemonizes into its own session so that it outlives the node) and may have been started by an
 * earlier node. Closing it stops QEMU if it still runs (a power cut for the guest, after QEMU
 * flushes its own caches: callers that want every guest write on disk ask the guest to power off
 * first and {@link #awaitExit}).
 *
 * @param spec      what was booted
 * @param pid       the QEMU daemon's process id
 * @param startedNs {@link System#nanoTime()} at start, for boot-time measurements (at adoption
 *                  for an adopted VM)
 */
public record InstanceVm(InstanceSpec spec, long pid, long startedNs) implements AutoCloseable {

    /** True while this instance's QEMU runs: the pid is alive and is still that QEMU. */
    public boolean running() {
        return QemuProcesses.isInstance(pid, spec);
    }

    /** Waits for QEMU to exit (the guest powered off); false on timeout. */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running()) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(100);
        }
        return true;
    }

    /** What the guest printed on its serial console so far. */
    public String console() throws IOException {
        return Files.exists(spec.consoleLog()) ? Files.readString(spec.consoleLog()) : "";
    }

    /** Stops QEMU: SIGTERM (QEMU flushes its block layer and exits), SIGKILL after 10 s. */
    @Override
    public void close() throws InterruptedException {
        if (!running()) return;
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        if (!awaitExit(Duration.ofSeconds(10))) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            awaitExit(Duration.ofSeconds(10));
        }
    }
}
