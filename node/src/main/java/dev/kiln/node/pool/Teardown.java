package dev.kiln.node.pool;

import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.records.ExecutionRecords;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;

/**
 * The second half of an execution's life: what follows its retirement (the VM halted or killed,
 * as the {@link EndReason} says) and its end (GONE: memory released, record closed, work
 * directory removed). It also watches each launched VM, so that a VM which dies, or whose guest
 * channel breaks, retires its execution at once.
 */
final class Teardown {
    private static final System.Logger LOG = System.getLogger(Teardown.class.getName());

    private final Collection<Execution> live;
    private final Admission admission;
    private final ExecutionRecords records;
    private final VmPlanner planner;
    private final NodeMetrics metrics;
    private final Duration stopGrace;
    private final ProgramNetworks networks;
    /** Null: no VM outlives the node. */
    private final Detachment detachment;

    Teardown(Collection<Execution> live, Admission admission, ExecutionRecords records, NodeMetrics metrics,
             Duration stopGrace, ProgramNetworks networks, VmPlanner planner, Detachment detachment) {
        this.detachment = detachment;
        this.networks = networks;
        this.planner = planner;
        this.live = live;
        this.admission = admission;
        this.records = records;
        this.metrics = metrics;
        this.stopGrace = stopGrace;
    }

    /** Ties a just-launched VM to its execution: its exit ends the execution, its failure retires it. */
    void watch(Execution e, Vm vm) {
        e.launched(vm);
        vm.exited().whenComplete((status, err) -> end(e, status));
        vm.lifecycle().onTransition((from, to) -> {
            if (to == VmState.FAILED) e.retire(EndReason.VM_DIED, "the VM failed");
            else if (to == VmState.STOPPING) e.retire(EndReason.STOPPED_BY_OPERATOR, "the VM was stopped by its driver");
        });
        // Any failure of the channel (end of stream, protocol violation, keep-alive) ends the
        // guest for good; streams refused one by one do not come here.
        if (vm.guest() != null) {
            vm.guest().closed().thenAccept(cause -> {
                if (e.retire(EndReason.GUEST_LOST, "guest lost: " + cause.getMessage())) {
                    LOG.log(System.Logger.Level.WARNING, "lost the guest of " + e.id() + ": " + cause.getMessage());
                }
            });
        }
        // Retired while the launch ran (the node is shutting down): the retirement saw no VM to stop.
        if (e.isRetired()) stop(e, vm, e.ending());
    }

    /** The pool's retirement hook, after the slot is forgotten: the VM is halted or killed. */
    void retired(Execution e, Ending ending) {
        metrics.executionEnded(ending.reason().label());
        Vm vm = e.vm();
        if (vm != null) stop(e, vm, ending);
    }

    private void stop(Execution e, Vm vm, Ending ending) {
        if (ending.reason() == EndReason.LEFT_RUNNING && vm.release()) {
            // Nothing will report this VM's exit to this node any more: the execution ends here.
            end(e, null);
            return;
        }
        if (ending.reason().graceful()) {
            Thread.ofVirtual().name("kiln-stop-" + e.id()).start(() -> {
                if (ending.reason() == EndReason.AMENDED) drain(e);
                LOG.log(System.Logger.Level.INFO, "stopping " + e.id() + ": " + ending.text());
                vm.stop(stopGrace);
            });
        } else {
            vm.kill();
        }
    }

    /**
     * Waits for the requests in flight to finish, at most their timeout: an update must not cut
     * them short (the halt's own grace is for a stop the operator wants now).
     */
    private static void drain(Execution e) {
        long end = System.nanoTime() + e.requestTimeout().toNanos();
        while (e.inFlight() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** An execution whose start failed before any VM ran, or whose VMM exited: GONE. */
    void end(Execution e, Integer status) {
        e.retire(EndReason.VM_DIED, "the VMM exited" + (status == null ? "" : " with status " + status));
        e.end(() -> release(e, status));
    }

    private void release(Execution e, Integer status) {
        Ending ending = e.ending();
        Vm vm = e.vm();
        if (ending.reason() == EndReason.LEFT_RUNNING && vm != null && vm.adoption().isPresent() && !vm.state().isTerminal()) {
            leftRunning(e, vm);
            return;
        }
        detach(e);
        live.remove(e);
        admission.release(e.memoryMiB());
        if (vm != null) forgetDetached(e, vm);
        String finalState = finalState(e, vm, ending);
        ExecutionRecord record = e.record();
        if (record != null) {
            ExecutionRecord base = e.bootDuration() == null ? record : record.ready(finalState, e.bootDuration());
            records.save(base.ended(finalState, Instant.now(), e.requestsServed(), ending.text(), ending.reason().label()));
        }
        if (vm == null) return;
        if (ending.reason() == EndReason.VM_DIED || ending.reason() == EndReason.GUEST_LOST) {
            LOG.log(System.Logger.Level.WARNING, "the VM of " + e.id() + " exited unexpectedly (status " + status
                    + "); console tail:\n" + safeTail(vm));
        } else {
            LOG.log(System.Logger.Level.INFO, e.id() + " ended: " + ending.text());
        }
        // Only a clean stop let the agent sync and power off; anything else leaves the dirty marker.
        planner.endVolumes(vm.spec(), finalState.equals(VmState.STOPPED.name()), e.programHash(), e.id());
        if (finalState.equals(VmState.STOPPED.name())) deleteQuietly(vm.spec().workDir());
    }

    /** Released, still running: its files, volumes, network and record stay for the node that adopts it. */
    private void leftRunning(Execution e, Vm vm) {
        networks.leave(e.id());
        live.remove(e);
        admission.release(e.memoryMiB());
        ExecutionRecord record = e.record();
        if (record != null) {
            ExecutionRecord base = e.bootDuration() == null ? record : record.ready(vm.state().name(), e.bootDuration());
            records.save(base.ended(vm.state().name(), Instant.now(), e.requestsServed(), e.ending().text(),
                    EndReason.LEFT_RUNNING.label()));
        }
        LOG.log(System.Logger.Level.INFO, e.id() + ": VM " + vm.id() + " (pid " + vm.pid() + ") left running for the next node");
    }

    /** A detached VM that ended: the next node must not look for it. */
    private void forgetDetached(Execution e, Vm vm) {
        if (detachment == null || vm.adoption().isEmpty()) return;
        try {
            detachment.records().remove(e.programHash(), vm.adoption().get().workDir());
        } catch (dev.kiln.store.records.RecordsException x) {
            LOG.log(System.Logger.Level.WARNING, "cannot forget the record of " + e.id() + "'s VM (the next node finds it gone): "
                    + x.getMessage());
        }
    }

    /** Once the VMM is gone (or never ran): its TAP, rules and forwarded ports go too. */
    private void detach(Execution e) {
        try {
            networks.detach(e.id());
        } catch (RuntimeException x) {
            LOG.log(System.Logger.Level.WARNING, "could not remove the network of " + e.id() + " (the node's next start"
                    + " sweeps it): " + x.getMessage());
        }
    }

    private static String finalState(Execution e, Vm vm, Ending ending) {
        if (vm == null) return VmState.FAILED.name();
        VmState state = vm.state();
        if (state.isTerminal()) return state.name();
        boolean clean = ending.reason().graceful() && e.bootDuration() != null;
        return clean ? VmState.STOPPED.name() : VmState.FAILED.name();
    }

    private static String safeTail(Vm vm) {
        try {
            return vm.consoleTail(30);
        } catch (RuntimeException e) {
            return "<console unavailable: " + e.getMessage() + ">";
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null || !Files.isDirectory(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not remove " + dir + ": " + e.getMessage());
        }
    }
}
