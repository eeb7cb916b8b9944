package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestException;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.guestapi.GuestApis;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.persistent.RestartPolicy;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.records.ExecutionRecords;
import dev.kiln.node.snapshot.ProgramSnapshots;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmState;
import dev.kiln.vm.snapshot.SnapshotKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The path from STARTING to SERVING: resolve the program, admit it (memory), plan its VM, then
 * either restore its snapshot ({@link StartKind#RESTORE}; the agent refreshes the copy) or launch it
 * and configure the program ({@link StartKind#BOOT}, after which a first snapshot is saved in the
 * background), each step timed. A snapshot that cannot be used is discarded and the VM boots. It runs on the
 * thread of the request that created the execution; every failure retires the execution with
 * the error its waiting requests get, and nothing of it is kept.
 */
final class ColdStart {
    private static final System.Logger LOG = System.getLogger(ColdStart.class.getName());

    private final PoolConfig config;
    private final VmLauncher launcher;
    private final ProgramResolver resolver;
    private final VmPlanner planner;
    private final Admission admission;
    private final Teardown teardown;
    private final KeepWarm keepWarm;
    private final ExecutionRecords records;
    private final NodeMetrics metrics;
    private final BooleanSupplier closing;
    private final Supplier<VmObserver> observer;
    private final ProgramSnapshots snapshots;
    private final Supplier<GuestApis> guestApis;
    /** Null: no VM outlives the node. */
    private final Detachment detachment;

    ColdStart(PoolConfig config, VmLauncher launcher, ProgramResolver resolver, VmPlanner planner, Admission admission,
              Teardown teardown, KeepWarm keepWarm, ExecutionRecords records, NodeMetrics metrics, BooleanSupplier closing,
              Supplier<VmObserver> observer, ProgramSnapshots snapshots, Supplier<GuestApis> guestApis, Detachment detachment) {
        this.detachment = detachment;
        this.config = config;
        this.launcher = launcher;
        this.resolver = resolver;
        this.planner = planner;
        this.admission = admission;
        this.teardown = teardown;
        this.keepWarm = keepWarm;
        this.records = records;
        this.metrics = metrics;
        this.closing = closing;
        this.observer = observer;
        this.snapshots = snapshots;
        this.guestApis = guestApis;
    }

    /** Takes {@code e} from STARTING to SERVING, or retires it; never throws (the outcome is {@link Execution#serving()}). */
    void run(Execution e) {
        long start = System.nanoTime();
        try {
            start(e, start);
            metrics.coldStart(kind(e), "ok", e.bootDuration());
        } catch (NodeException ne) {
            failed(e, ne, ne.getMessage(), start);
        } catch (InterruptedException ie) {
            failed(e, new NodeException(ErrorCode.SHUTTING_DOWN, "the boot was interrupted", ie), "boot interrupted", start);
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error x) {
            LOG.log(System.Logger.Level.ERROR, "booting program " + e.programHash() + " failed unexpectedly", x);
            failed(e, StartErrors.unexpected(e.programHash(), x), "the node failed unexpectedly", start);
        }
    }

    private void failed(Execution e, NodeException error, String detail, long start) {
        metrics.coldStart(kind(e), error.code().wire(), Duration.ofNanos(System.nanoTime() - start));
        e.failStart(error, detail);
        // With a VM, its exit ends the execution (the retirement killed it); without one, nothing will.
        if (e.vm() == null) teardown.end(e, null);
    }

    private static String kind(Execution e) {
        return switch (e.startKind()) {
            case RESTORE -> "restore";
            case ADOPT -> "adopt";
            case BOOT -> "boot";
        };
    }

    private void start(Execution e, long start) throws NodeException, InterruptedException {
        ItemHash hash = e.programHash();
        ResolvedProgram program = resolver.resolve(hash);
        long resolved = System.nanoTime();
        Duration idle = config.idleTimeout();
        e.resolved(program, program.content().isPersistent() ? new KeepWarmPolicy.Persistent(RestartPolicy.DEFAULT)
                : new KeepWarmPolicy.OnDemand(idle));
        long cost = VmPlanner.memoryCost(program, config.vmmOverheadMiB());
        admission.checkFits(program, cost);
        if (detaching(e) && adopt(e, program, cost, start, resolved)) return;
        try (Admission.BootSlot slot = admission.awaitBootSlot(program)) {
            boot(e, program, cost, start, resolved);
        }
    }

    private void boot(Execution e, ResolvedProgram program, long cost, long start, long resolved)
            throws NodeException, InterruptedException {
        ItemHash hash = e.programHash();
        admission.reserve(program, cost);
        e.reserved(cost);
        VmPlan plan;
        try {
            // A VM that may outlive the node has its scratch images where the next node finds them.
            plan = planner.plan(program, e.id(), detaching(e) ? detachment.directory().resolve(e.id()) : config.vmsDir().resolve(e.id()));
        } catch (IllegalArgumentException x) {
            throw new NodeException(ErrorCode.UNSUPPORTED, "program " + hash + " cannot be run as a VM here: "
                    + x.getMessage(), x);
        }
        try {
            plan = planner.connected(plan, program, e.id());
        } catch (NodeException x) {
            planner.releaseVolumes(plan.spec(), false);
            throw x;
        }
        boolean detached = detaching(e) && Detachment.possibleFor(plan.spec(), planner.networks().held(e.id()));
        if (detached) {
            plan = new VmPlan(detachment.place(plan.spec(), e.id()), plan.config());
        } else if (detaching(e)) {
            LOG.log(System.Logger.Level.INFO, "persistent program " + hash + "'s network card cannot be recorded:"
                    + " its VM stops with this node");
        }
        ExecutionRecord record = new ExecutionRecord(e.id(), hash, program.runtime().resolved(), launcher.accelerator().id(),
                VmState.BOOTING.name(), Instant.now(), null, null, 0, null, null);
        records.save(record);
        e.recorded(record);
        if (closing.getAsBoolean()) throw StartErrors.shuttingDown();
        // A detached VM is booted, never restored: a restore's RAM file is this process's to release.
        ProgramSnapshots.Plan snapshot = detached ? new ProgramSnapshots.Plan.Refused("detached") : snapshots.plan(program, plan.spec(), plan.config());
        SnapshotKey key = snapshot instanceof ProgramSnapshots.Plan.Keyed k ? k.key() : null;
        Optional<ProgramSnapshots.Restore> restored = key == null ? Optional.empty() : snapshots.restore(key, plan.spec(), plan.config());
        if (restored.isPresent()) {
            restoredVm(e, restored.get(), record, start, resolved);
            return;
        }
        Vm vm = launch(e, plan, key != null, detached);
        long launched = System.nanoTime();
        try {
            vm.guest().configure(plan.config());
        } catch (GuestException x) {
            if (x instanceof dev.kiln.guest.GuestConfigureException c) {
                LOG.log(System.Logger.Level.WARNING, "program " + hash + " did not start: " + c.getMessage()
                        + (c.traceback() == null ? "" : "\n" + c.traceback()));
            }
            e.failStart(StartErrors.configure(hash, x), StartErrors.configureDetail(x));
            throw StartErrors.configure(hash, x);
        }
        long configured = System.nanoTime();
        if (!vm.state().isServing()) {
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM of program " + hash
                    + " died right after starting; the node's log has its console");
        }
        Duration took = Duration.ofNanos(configured - start);
        var parts = new Execution.BootBreakdown(Duration.ofNanos(resolved - start), Duration.ofNanos(launched - resolved),
                Duration.ofNanos(configured - launched));
        if (!e.started(took, parts)) throw StartErrors.ended(hash, e.ending());
        ready(e, record, took, parts);
        LOG.log(System.Logger.Level.INFO, "program " + hash + " ready in " + took.toMillis() + " ms (" + e.id()
                + ", " + vm.accelerator().id() + "; resolve " + parts.resolve().toMillis() + " ms, boot to hello "
                + parts.vmBoot().toMillis() + " ms, configure " + parts.configure().toMillis() + " ms)");
        keepWarm.arm(e);
        if (key != null) {
            // The snapshot holds the program as its first requests left it: saved between requests,
            // never pausing one (the pause is ~60 ms), and not while the first one is being answered.
            snapshots.saveInBackground(key, vm, () -> e.requestsServed() > 0 && e.inFlight() == 0, () -> e.inFlight() == 0,
                    () -> e.phase() == Phase.SERVING);
        } else if (snapshot instanceof ProgramSnapshots.Plan.Refused r && snapshots.settings().enabled()) {
            LOG.log(System.Logger.Level.DEBUG, "program " + hash + " is not snapshotted: " + r.reason());
        }
        if (closing.getAsBoolean()) e.retire(EndReason.SHUTDOWN, null);
    }

    private void restoredVm(Execution e, ProgramSnapshots.Restore r, ExecutionRecord record, long start, long resolved)
            throws NodeException {
        Vm vm = r.vm();
        e.restoring();
        observer.get().launched(e.id(), e.programHash(), vm);
        serveGuestApi(e, vm);
        teardown.watch(e, vm);
        long done = System.nanoTime();
        if (!vm.state().isServing()) {
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM of program " + e.programHash()
                    + " restored from a snapshot died right after starting; the node's log has its console");
        }
        Duration took = Duration.ofNanos(done - start);
        Duration refresh = r.refresh();
        var parts = new Execution.BootBreakdown(Duration.ofNanos(resolved - start),
                Duration.ofNanos(done - resolved).minus(refresh), refresh);
        if (!e.started(took, parts)) throw StartErrors.ended(e.programHash(), e.ending());
        ready(e, record, took, parts);
        LOG.log(System.Logger.Level.INFO, "program " + e.programHash() + " restored in " + took.toMillis() + " ms ("
                + e.id() + ", copy " + r.generation() + "; resolve " + parts.resolve().toMillis() + " ms, restore "
                + parts.vmBoot().toMillis() + " ms, refresh " + refresh.toMillis() + " ms)");
        keepWarm.arm(e);
        if (closing.getAsBoolean()) e.retire(EndReason.SHUTDOWN, null);
    }

    private void ready(Execution e, ExecutionRecord record, Duration took, Execution.BootBreakdown parts) {
        ExecutionRecord ready = record.ready(VmState.READY.name(), took, kind(e),
                new ExecutionRecord.Phases(parts.resolve(), parts.vmBoot(), parts.configure()));
        e.recorded(ready);
        records.save(ready);
    }

    /** Before the program is configured, so its first API request already finds its handler. */
    private void serveGuestApi(Execution e, Vm vm) {
        GuestApis apis = guestApis.get();
        if (apis != null) apis.handlerFor(e.program(), e.id()).ifPresent(vm.guest()::serveApi);
    }

    private Vm launch(Execution e, VmPlan plan, boolean snapshottable, boolean detached) throws NodeException, InterruptedException {
        Vm vm;
        try {
            vm = detached ? launcher.launchDetached(plan.spec())
                    : snapshottable ? snapshots.launchSnapshottable(plan.spec()) : launcher.launch(plan.spec());
        } catch (VmBootException x) {
            planner.releaseVolumes(plan.spec(), false); // no VM, so no teardown to release them
            LOG.log(System.Logger.Level.WARNING, "the VM of program " + e.programHash() + " did not boot ("
                    + x.reason().label() + "): " + x.getMessage());
            NodeException error = StartErrors.launch(e.programHash(), x);
            e.failStart(error, StartErrors.launchDetail(x));
            metrics.bootFailure(x.reason().label());
            observer.get().bootFailed(e.id(), e.programHash(), x.getMessage());
            throw error;
        }
        observer.get().launched(e.id(), e.programHash(), vm);
        serveGuestApi(e, vm);
        teardown.watch(e, vm);
        if (detached) remember(e, vm);
        return vm;
    }

    private boolean detaching(Execution e) {
        return detachment != null && e.keepWarm() instanceof KeepWarmPolicy.Persistent;
    }

    /** The VM outlives this node only if the next one can find it: no record, no start. */
    private void remember(Execution e, Vm vm) throws NodeException {
        if (vm.adoption().isEmpty()) return; // the launcher cannot detach: an ordinary VM
        try {
            detachment.records().put(e.programHash(), e.id(), vm.adoption().get(), Detachment.holdings(vm.spec(),
                    planner.networks().held(e.id())));
        } catch (dev.kiln.store.records.RecordsException x) {
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM of persistent program " + e.programHash()
                    + " cannot be recorded for the next node (" + x.getMessage() + "); it is not started", x);
        }
    }

    /**
     * Takes over the program's VM if an earlier node left one running; false (and the caller
     * boots) if there is none or it could not be adopted — the launcher then guarantees that it
     * no longer runs, so the boot never makes a second one.
     */
    private boolean adopt(Execution e, ResolvedProgram program, long cost, long start, long resolved)
            throws NodeException, InterruptedException {
        ItemHash hash = e.programHash();
        Optional<dev.kiln.node.records.DetachedVmRecords.Row> row;
        try {
            row = detachment.records().find(hash);
        } catch (dev.kiln.store.records.RecordsException x) {
            throw new NodeException(ErrorCode.BOOT_FAILED, "cannot read the record of program " + hash + "'s VM: " + x.getMessage()
                    + "; it is not started, so that it never runs twice", x);
        }
        if (row.isEmpty()) return false;
        java.util.OptionalLong other;
        try {
            other = records.otherLiveNode(row.get().execution());
        } catch (dev.kiln.store.records.RecordsException x) {
            other = java.util.OptionalLong.empty();
        }
        if (other.isPresent()) {
            // Neither adopt (QEMU serves one monitor and one guest connection) nor boot a second VM.
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM of persistent program " + hash + " is driven by another node"
                    + " process on this Kiln home (pid " + other.getAsLong() + "); run one node per home");
        }
        try {
            // Before the VM is touched: while it runs, its volumes are its own, whatever else starts now.
            Optional<dev.kiln.node.volume.PersistentVolumes> volumes = planner.persistentVolumes();
            if (volumes.isPresent()) volumes.get().reclaim(row.get().holdings().drives(), row.get().holdings().vmName());
        } catch (dev.kiln.node.volume.PersistentVolumes.InUseException x) {
            LOG.log(System.Logger.Level.WARNING, "persistent program " + hash + ": " + x.getMessage() + "; ending that VM");
            launcher.discard(row.get().vm().workDir());
            forget(hash, row.get());
            throw new NodeException(ErrorCode.VOLUME_IN_USE, "program " + hash + " cannot start: " + x.getMessage(), x);
        }
        if (row.get().holdings().network() != null && !planner.networks().holds(row.get().execution())) {
            // Its TAP and rules were not kept by this node's network start (networking off, other settings):
            // the VM would run cut off, so it is ended and booted again.
            LOG.log(System.Logger.Level.WARNING, "persistent program " + hash + ": the network of its running VM was not"
                    + " kept by this node; ending that VM and starting the program again");
            launcher.discard(row.get().vm().workDir());
            forget(hash, row.get());
            return false;
        }
        Vm vm;
        try {
            vm = launcher.adopt(row.get().vm());
        } catch (VmBootException x) {
            LOG.log(System.Logger.Level.INFO, "persistent program " + hash + ": " + x.getMessage() + "; starting it again");
            forget(hash, row.get());
            return false;
        }
        e.adopting();
        // The new connection has no API handler yet; the program's guest API resumes once it has.
        serveGuestApi(e, vm);
        try {
            admission.reserve(program, cost);
        } catch (NodeException x) {
            vm.kill();
            try {
                vm.exited().get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ignored) {
                // Its volumes are let go below anyway: the kill was sent and nothing drives the VM.
            }
            forget(hash, row.get());
            throw x;
        }
        e.reserved(cost);
        // From here the execution owns the network: its end detaches it by the execution's id.
        planner.networks().adopt(row.get().execution(), e.id());
        long adopted = System.nanoTime();
        ExecutionRecord record = new ExecutionRecord(e.id(), hash, program.runtime().resolved(), vm.accelerator().id(),
                VmState.READY.name(), Instant.now(), null, null, 0, null, null);
        records.save(record);
        e.recorded(record);
        observer.get().launched(e.id(), hash, vm);
        teardown.watch(e, vm);
        remember(e, vm);
        Duration took = Duration.ofNanos(adopted - start);
        var parts = new Execution.BootBreakdown(Duration.ofNanos(resolved - start), Duration.ofNanos(adopted - resolved), Duration.ZERO);
        if (!e.started(took, parts)) throw StartErrors.ended(hash, e.ending());
        ready(e, record, took, parts);
        LOG.log(System.Logger.Level.INFO, "program " + hash + ": adopted its running VM " + vm.id() + " (pid " + vm.pid()
                + ", up since " + vm.startedAt() + ") in " + took.toMillis() + " ms (" + e.id() + ")");
        if (closing.getAsBoolean()) e.retire(EndReason.SHUTDOWN, null);
        return true;
    }

    /**
     * The recorded VM does not run any more (or never will again): its row goes, and what it held
     * too — scratch images, persistent volumes (left marked dirty, so they are checked before the
     * next attach), its network.
     */
    private void forget(ItemHash hash, dev.kiln.node.records.DetachedVmRecords.Row row) {
        detachment.letGo(row, planner.persistentVolumes(), planner.networks());
        try {
            detachment.records().remove(hash, row.vm().workDir());
        } catch (dev.kiln.store.records.RecordsException x) {
            LOG.log(System.Logger.Level.WARNING, "cannot forget the record of program " + hash + "'s VM: " + x.getMessage());
        }
    }
}
