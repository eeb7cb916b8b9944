package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.GuestProtocolException;
import dev.kiln.guest.GuestTimeoutException;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmBootException.Reason;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmState;
import dev.kiln.vm.snapshot.SnapshotException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a {@link QemuVm} comes up: listen for its console, start QEMU, load the snapshot if it is
 * a restore, connect the guest channel and wait for the agent's HELLO, then READY. The VM keeps
 * the state; this class only drives it, and on failure leaves nothing running and explains why
 * with the console's last lines.
 */
final class BootSequence {
    private final QemuVm vm;
    private final VmSpec spec;
    private final VmFiles files;

    BootSequence(QemuVm vm) {
        this.vm = vm;
        this.spec = vm.spec();
        this.files = vm.files();
    }

    /** READY on return, nothing left running on failure. */
    void run(VmmSpawner spawner, GuestConnection.Options guestOptions) throws VmBootException, InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + spec.bootTimeout().toNanos();
        try {
            vm.attachConsole(ConsoleCapture.listen(files.consoleSocket(), files.consoleLog()));
        } catch (IOException e) {
            vm.abandon();
            throw new VmBootException(Reason.VMM_START_FAILED, "VM " + vm.id() + " did not boot: cannot listen for its console on "
                    + files.consoleSocket() + " (" + e.getMessage() + ")", e);
        }
        Process p;
        try {
            ProcessBuilder builder = new ProcessBuilder(vm.commandLine().command()).directory(files.workDir().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true).redirectOutput(files.vmmLog().toFile());
            p = vm.detached() ? spawner.startDetached(builder) : spawner.start(builder);
        } catch (IOException e) {
            vm.abandon();
            throw new VmBootException(Reason.VMM_START_FAILED, "VM " + vm.id() + " did not boot: cannot start "
                    + vm.commandLine().command().getFirst() + " (" + e.getMessage()
                    + "). Install QEMU (qemu-system-x86; scripts/setup.sh does it).", e);
        } catch (InterruptedException e) {
            vm.abandon();
            throw e;
        }
        vm.attachProcess(p);

        try {
            if (!vm.lifecycle().transition(VmState.PREPARING, VmState.BOOTING)) {
                throw new BootFailure(Reason.STOPPED, "it was stopped while starting");
            }
            if (vm.plan().incoming() != null) loadSnapshot(t0, deadline);
            GuestConnection g = connectGuest(guestOptions.withLogSink(log -> vm.guestLog().accept(vm, log)), deadline);
            vm.attachGuest(g, Duration.ofNanos(System.nanoTime() - t0));
            if (!vm.lifecycle().transition(VmState.BOOTING, VmState.READY)) {
                throw new BootFailure(Reason.STOPPED, "it was stopped while booting");
            }
            vm.watchGuest(g);
        } catch (BootFailure f) {
            throw failed(f.reason, f.getMessage(), f.getCause());
        } catch (InterruptedException e) {
            failed(Reason.STOPPED, "interrupted", e);
            throw e;
        }
    }

    private void loadSnapshot(long t0, long deadline) throws BootFailure, InterruptedException {
        try {
            vm.plan().incoming().load(vm.qmp(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))), t0, deadline);
        } catch (SnapshotException e) {
            throw new BootFailure(Reason.SNAPSHOT_UNUSABLE, e.getMessage(), e);
        } catch (QmpException e) {
            if (!vm.process().isAlive()) throw exitedEarly();
            throw new BootFailure(Reason.SNAPSHOT_UNUSABLE, "QEMU's monitor did not answer while the snapshot loaded ("
                    + e.getMessage() + ")", e);
        }
    }

    /** A reason for a failed boot, turned into a {@link VmBootException} by {@link #failed}. */
    private static final class BootFailure extends Exception {
        final Reason reason;

        BootFailure(Reason reason, String message) {
            this(reason, message, null);
        }

        BootFailure(Reason reason, String message, Throwable cause) {
            super(message, cause);
            this.reason = reason;
        }
    }

    private GuestConnection connectGuest(GuestConnection.Options options, long deadline) throws BootFailure, InterruptedException {
        Path socket = files.guestSocket();
        while (true) {
            if (!vm.process().isAlive()) throw exitedEarly();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new BootFailure(Reason.TIMEOUT, "QEMU did not open the guest channel (" + socket + ") within "
                        + spec.bootTimeout().toSeconds() + " s");
            }
            if (Files.exists(socket)) {
                try {
                    return GuestConnection.connect(socket, options.withHelloTimeout(Duration.ofNanos(left)));
                } catch (GuestTimeoutException e) {
                    throw new BootFailure(Reason.TIMEOUT, "the guest agent did not say hello within " + spec.bootTimeout().toSeconds()
                            + " s (bootTimeout)", e);
                } catch (GuestProtocolException e) {
                    throw new BootFailure(Reason.PROTOCOL, "the guest agent broke the protocol: " + e.getMessage(), e);
                } catch (GuestChannelClosedException e) {
                    // QEMU closes the channel when it exits: give the exit a moment to be seen.
                    if (vm.awaitExit(Duration.ofSeconds(3))) throw exitedEarly();
                    throw new BootFailure(Reason.CHANNEL, "the guest channel closed before the agent said hello (" + e.getMessage() + ")", e);
                } catch (GuestException e) {
                    if (Thread.interrupted()) throw new InterruptedException();
                    throw new BootFailure(Reason.CHANNEL, "the guest channel failed: " + e.getMessage(), e);
                } catch (IOException e) {
                    // not listening yet
                }
            }
            Thread.sleep(5);
        }
    }

    private BootFailure exitedEarly() throws InterruptedException {
        vm.awaitExit(Duration.ofSeconds(3));
        QemuVm.ExitReport r = vm.exitReport();
        Process p = vm.process();
        String status = r != null ? "status " + r.status() : "status " + (p.isAlive() ? "?" : p.exitValue());
        return new BootFailure(Reason.VMM_EXITED, "QEMU exited (" + status + ") before the guest agent said hello");
    }

    private VmBootException failed(Reason kind, String reason, Throwable cause) throws InterruptedException {
        VmState state = vm.lifecycle().state();
        if (state == VmState.STOPPING || state == VmState.STOPPED) {
            kind = Reason.STOPPED;
            if (!reason.startsWith("it was stopped")) reason = "it was stopped while booting (" + reason + ")";
        } else {
            vm.failIfLive();
        }
        GuestConnection g = vm.guest();
        if (g != null) g.close();
        Process p = vm.process();
        if (p != null && p.isAlive()) p.destroyForcibly();
        vm.awaitExit(QemuVm.KILL_WAIT);
        QemuVm.ExitReport r = vm.exitReport();
        String tail = r != null ? r.consoleTail() : vm.consoleTail(QemuVm.FAILURE_TAIL_LINES);
        StringBuilder m = new StringBuilder("VM ").append(vm.id()).append(" did not boot: ").append(reason).append('.');
        String hint = hint(tail);
        if (hint != null) m.append(' ').append(hint);
        if (r != null && !r.vmmOutput().isBlank()) m.append("\nQEMU said: ").append(r.vmmOutput().strip());
        m.append("\n--- console (last ").append(QemuVm.FAILURE_TAIL_LINES).append(" lines of ").append(vm.consoleLog())
                .append(") ---\n").append(tail.isEmpty() ? "(empty)" : tail);
        return new VmBootException(kind, m.toString(), cause);
    }

    /** What the console says went wrong, in words a user can act on. */
    private String hint(String tail) {
        for (String line : tail.split("\n")) {
            if (line.contains("kiln-init0: FATAL")) return "init0 failed: " + line.substring(line.indexOf("FATAL")).strip() + ".";
        }
        if (tail.contains("VFS: Unable to mount root") || tail.contains("VFS: Cannot open root device")) {
            return "The kernel could not mount the runtime image " + spec.rootfs() + " as a " + spec.rootfsType()
                    + " root filesystem: is it a " + spec.rootfsType() + " image?";
        }
        if (tail.contains("Attempted to kill init")) return "The guest's init exited (see the console below).";
        return null;
    }
}
