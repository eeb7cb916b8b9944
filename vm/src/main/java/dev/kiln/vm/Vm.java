package dev.kiln.vm;

import dev.kiln.guest.GuestConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One running microVM. Its {@link #lifecycle()} is the single authoritative state of the VM; the
 * pool moves it between READY, BUSY and IDLE, the driver does the rest.
 */
public interface Vm extends AutoCloseable {

    /** Unique for the life of the process, e.g. {@code vm-3f2a…-1}. */
    String id();

    VmSpec spec();

    VmLifecycle lifecycle();

    default VmState state() {
        return lifecycle().state();
    }

    /** The guest agent's connection; its hello has arrived by the time {@link VmLauncher#launch} returns. */
    GuestConnection guest();

    Accelerator accelerator();

    Instant startedAt();

    /** From starting the VMM to the agent's hello. */
    Duration bootDuration();

    /** Booted, or restored from a snapshot (then {@link #bootDuration()} is the restore's). */
    default VmStart start() {
        return VmStart.BOOT;
    }

    /** The guest's serial console, captured to a file. */
    Path consoleLog();

    /** The last lines of the console (for error messages and logs). */
    String consoleTail(int lines);

    /**
     * Follows the console: {@code sink} gets what the driver still holds of it, then each new
     * piece as the guest writes it, until the VM has ended or the returned handle is closed.
     * Pieces are raw bytes as the guest's tty wrote them ({@code \r\n} line ends, lines split
     * anywhere); the sink runs on the driver's thread and must not block.
     *
     * <p>The default follows {@link #consoleLog()} as a growing file, polling it; a driver that
     * captures the console itself pushes instead.
     */
    default java.io.Closeable followConsole(java.util.function.Consumer<byte[]> sink) {
        return ConsoleFileFollower.start(this, sink);
    }

    /** The VMM's process id. */
    long pid();

    /** Completes with the VMM's exit status when it exits, for whatever reason. */
    CompletableFuture<Integer> exited();

    /**
     * Stops the VM: a graceful halt through the guest (its shutdown hooks run), then the VMM is
     * told to quit, then killed; each step is bounded and the whole takes at most about
     * {@code grace} plus a second. Safe to call more than once and from any thread.
     */
    void stop(Duration grace);

    /**
     * For a detached VM (launched to outlive its node): what the next node needs to adopt it.
     * Empty for VMs that end with their driver.
     */
    default java.util.Optional<VmAdoption> adoption() {
        return java.util.Optional.empty();
    }

    /**
     * Lets go of a detached VM and leaves it running: the guest channel, monitor and console are
     * closed on this side only, nothing is stopped or cleaned, and this object is of no further use
     * (its {@link #exited()} never completes). False, and nothing done, for a VM that is not
     * detached or has ended.
     */
    default boolean release() {
        return false;
    }

    /** Kills the VMM at once; the state becomes FAILED unless it was already terminal. */
    void kill();

    @Override
    default void close() {
        stop(Duration.ofSeconds(2));
    }
}
