package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.HaltResult;
import dev.kiln.vm.VmState;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How a {@link QemuVm} is stopped: ask the agent to halt (a serving VM only), then QMP
 * {@code quit}, then SIGKILL, each step only if QEMU is still running. One stop runs per VM; a
 * second caller waits a bounded time for the first. STOPPED once QEMU has exited, FAILED if not
 * even SIGKILL ended it.
 */
final class StopSequence {
    private static final System.Logger LOG = System.getLogger(StopSequence.class.getName());
    /** After HALTED the agent syncs and powers off; TCG takes a few hundred ms for that. */
    private static final Duration POWER_OFF_WAIT = Duration.ofMillis(2500);
    private static final Duration HALT_SLACK = Duration.ofMillis(1500);

    private final QemuVm vm;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    StopSequence(QemuVm vm) {
        this.vm = vm;
    }

    void run(Duration grace) {
        VmState was;
        while (true) {
            was = vm.lifecycle().state();
            if (was.isTerminal()) return;
            if (was == VmState.STOPPING) {
                awaitQuietly(stopped, grace.plus(QemuVm.KILL_WAIT).plus(QemuVm.QMP_WAIT.multipliedBy(2)));
                return;
            }
            if (vm.lifecycle().transition(was, VmState.STOPPING)) break;
        }
        try {
            shutDown(was, grace);
        } finally {
            stopped.complete(null);
        }
    }

    private void shutDown(VmState was, Duration grace) {
        ProcessHandle p = vm.vmm();
        if (p == null) {
            // Never started: nothing runs. The booting thread sees STOPPING and gives up.
            vm.lifecycle().transition(VmState.STOPPING, VmState.STOPPED);
            return;
        }
        try {
            GuestConnection g = vm.guest();
            if (was.isServing() && g != null && g.isOpen()) {
                try {
                    HaltResult r = g.halt(grace, grace.plus(HALT_SLACK));
                    LOG.log(System.Logger.Level.DEBUG, () -> "VM " + vm.id() + " halted: " + r);
                    vm.awaitExit(POWER_OFF_WAIT);
                } catch (GuestException e) {
                    LOG.log(System.Logger.Level.INFO, "VM " + vm.id() + ": graceful halt failed (" + e.getMessage() + "); quitting QEMU");
                }
            }
            if (p.isAlive()) {
                quitThroughQmp();
                vm.awaitExit(QemuVm.QMP_WAIT);
            }
            if (p.isAlive()) {
                p.destroyForcibly();
                vm.awaitExit(QemuVm.KILL_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        if (vm.hasExited()) {
            vm.lifecycle().transition(VmState.STOPPING, VmState.STOPPED);
        } else {
            LOG.log(System.Logger.Level.ERROR, "VM " + vm.id() + ": QEMU (pid " + p.pid() + ") did not exit even after SIGKILL");
            vm.lifecycle().transition(VmState.STOPPING, VmState.FAILED);
        }
    }

    private void quitThroughQmp() throws InterruptedException {
        try {
            vm.qmp().quit(QemuVm.QMP_WAIT);
        } catch (QmpException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + vm.id() + ": QMP quit failed: " + e.getMessage());
        }
    }

    private static void awaitQuietly(CompletableFuture<?> f, Duration timeout) {
        try {
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // bounded wait: the caller only wanted to give the other stop a chance to finish
        }
    }
}
