package dev.kiln.vm.instance;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A running instance VM: its QEMU process. Closing it stops QEMU if it still runs (power cut:
 * callers that want the guest's writes on disk ask the guest to power off first and
 * {@link #awaitExit}).
 *
 * @param spec      what was booted
 * @param process   the QEMU process
 * @param startedNs {@link System#nanoTime()} at start, for boot-time measurements
 */
public record InstanceVm(InstanceSpec spec, Process process, long startedNs) implements AutoCloseable {

    /** True until QEMU exits. */
    public boolean running() {
        return process.isAlive();
    }

    /** Waits for QEMU to exit (the guest powered off); false on timeout. */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** What the guest printed on its serial console so far. */
    public String console() throws IOException {
        return Files.exists(spec.consoleLog()) ? Files.readString(spec.consoleLog()) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
