package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.guestapi.GuestApis;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.persistent.RestartHistory;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.records.ExecutionRecords;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.vm.Vm;
import dev.kiln.node.snapshot.ProgramSnapshots;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The node's running programs: at most one execution per program, started by the first request
 * for it. The life of each execution is its own state machine ({@link Execution}); this class
 * only finds or creates it. The steps live beside it: {@link ColdStart} (resolve → admit → plan
 * → launch → configure), {@link Admission} (memory, eviction), {@link KeepWarm} (idle timeout),
 * {@link Teardown} (stopping, then releasing), {@link StartErrors} (what a failed start answers).
 *
 * <p><b>Single flight without a global lock.</b> Each program has a slot in a
 * {@link ConcurrentHashMap}: its current execution. The first request puts a STARTING execution
 * there ({@code putIfAbsent}) and runs the cold start on its own thread; concurrent requests for
 * the same program wait for that execution to serve; requests for other programs find other
 * slots and start in parallel. A retired execution leaves its slot at once, so a failure is not
 * cached and the next request starts over.
 */
public final class ExecutionPool implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ExecutionPool.class.getName());
    private static final Duration EXIT_WAIT = Duration.ofSeconds(5);

    private final PoolConfig config;
    private final MemoryBudget budget;
    private final ConcurrentHashMap<ItemHash, Execution> slots = new ConcurrentHashMap<>();
    /** Every execution that is not GONE: starting, serving, or retired with its VMM still running. */
    private final Set<Execution> live = ConcurrentHashMap.newKeySet();
    private final ExecutionIds ids;
    private final KeepWarm keepWarm = new KeepWarm();
    private final Teardown teardown;
    private final ColdStart coldStart;
    private final Restarts restarts = new Restarts(this::startKept);
    private volatile boolean closing;
    private volatile VmObserver observer = VmObserver.NONE;
    private volatile GuestApis guestApis;

    private final ProgramNetworks networks;
    private final VmPlanner planner;
    private final ProgramSnapshots snapshots;
    private final Admission admission;
    private final Detachment detachment;

    public ExecutionPool(PoolConfig config, VmLauncher launcher, ProgramResolver resolver, VmPlanner planner,
                         ExecutionRecords records, NodeMetrics metrics) {
        this(config, launcher, resolver, planner, records, metrics, ProgramSnapshots.disabled());
    }

    /** With {@code snapshots}: cold starts after a program's first restore its snapshot (docs/snapshots.md). */
    public ExecutionPool(PoolConfig config, VmLauncher launcher, ProgramResolver resolver, VmPlanner planner,
                         ExecutionRecords records, NodeMetrics metrics, ProgramSnapshots snapshots) {
        this(config, launcher, resolver, planner, records, metrics, snapshots, null);
    }

    /**
     * With {@code detachment} (null: none), persistent programs' VMs outlive the pool: {@link #close()}
     * leaves them running and a later pool on the same records adopts them (docs/node.md, "Restarts").
     */
    public ExecutionPool(PoolConfig config, VmLauncher launcher, ProgramResolver resolver, VmPlanner planner,
                         ExecutionRecords records, NodeMetrics metrics, ProgramSnapshots snapshots, Detachment detachment) {
        this.config = config;
        this.detachment = detachment;
        this.budget = new MemoryBudget(config.memoryBudgetMiB());
        this.ids = new ExecutionIds(records.beginNodeStart());
        this.admission = new Admission(budget, live, config.stopGrace().plus(EXIT_WAIT), config.maxConcurrentBoots(),
                config.bootQueueWait());
        this.networks = planner.networks();
        this.planner = planner;
        this.snapshots = snapshots;
        this.teardown = new Teardown(live, admission, records, metrics, config.stopGrace(), networks, planner, detachment);
        this.coldStart = new ColdStart(config, launcher, resolver, planner, admission, teardown, keepWarm, records, metrics,
                () -> closing, () -> observer, snapshots, () -> guestApis, detachment);
        for (VmState s : VmState.values()) metrics.vmsInState(s.name(), () -> vmsByState().getOrDefault(s, 0L));
        metrics.memoryGauges(budget::reservedMiB, budget::totalMiB);
    }

    /**
     * The execution of a program, starting it first if none is serving; the caller must close
     * the lease when its response is complete.
     */
    public Lease acquire(ItemHash program) throws NodeException, InterruptedException {
        while (true) {
            if (closing) throw StartErrors.shuttingDown();
            Execution e = slots.get(program);
            if (e == null) {
                Execution mine = new Execution(ids.next(program), program, StartKind.BOOT, this::retired);
                e = slots.putIfAbsent(program, mine);
                if (e == null) {
                    e = mine;
                    begin(mine);
                }
            }
            boolean cold = e.phase() == Phase.STARTING;
            Execution serving = StartErrors.await(e.serving());
            if (serving.enter()) return new Lease(this, serving, cold);
            // Retired between the lookup and now (idle stop, eviction, death): it left its slot; start anew.
            slots.remove(program, e);
        }
    }

    /** Runs the cold start of an execution that has just taken its program's slot, on this thread. */
    private void begin(Execution mine) {
        live.add(mine);
        if (closing) {
            // close() may have looked at the live set before this one joined it.
            mine.retire(EndReason.SHUTDOWN, null);
            teardown.end(mine, null);
            return;
        }
        coldStart.run(mine);
        if (mine.phase() == Phase.SERVING) restarts.serving(mine.programHash());
    }

    /**
     * Keeps a persistent program running from now on: started at once (in the background, not by
     * a request), restarted with backoff after a death, never stopped for idleness or room, until
     * {@link #release}. Idempotent: a program already kept is left as it is. If an earlier node
     * left the program's VM running, that VM is adopted instead of a boot.
     */
    public void keepRunning(ItemHash program) {
        if (closing) return;
        restarts.keep(program);
        startKept(program);
    }

    /** Stops keeping a persistent program and stops its VM gracefully; false if it was not kept. */
    public boolean release(ItemHash program, String why) {
        boolean was = restarts.forget(program);
        Execution e = slots.get(program);
        if (e != null) e.retire(EndReason.STOPPED_BY_OPERATOR, why);
        return was;
    }

    /**
     * Stops keeping a persistent program, like {@link #release}; the future completes once its VM
     * has exited and released its volumes (at once if none is live), so they can be deleted safely.
     */
    public java.util.concurrent.CompletableFuture<Void> releaseAndWait(ItemHash program, String why) {
        Execution e = slots.get(program);
        release(program, why);
        return e == null ? java.util.concurrent.CompletableFuture.completedFuture(null) : e.gone().thenApply(x -> null);
    }

    /**
     * Reboots a kept program: its VM stops gracefully and a new one starts once the old VMM has
     * exited (never beside it: they would share volumes and ports); false if it is not kept.
     */
    public boolean reboot(ItemHash program, String why) {
        if (closing || !restarts.kept(program)) return false;
        Execution e = slots.get(program);
        if (e == null) {
            startKept(program);
            return true;
        }
        e.retire(EndReason.STOPPED_BY_OPERATOR, why);
        e.gone().whenComplete((ok, x) -> startKept(program));
        return true;
    }

    /** The persistent programs kept running, with their restart count, status and next attempt. */
    public Map<ItemHash, RestartHistory.View> persistent() {
        return restarts.views();
    }

    /** Starts a kept program's execution on its own thread unless one is live already. */
    private void startKept(ItemHash program) {
        if (closing || !restarts.kept(program) || slots.containsKey(program)) return;
        Execution mine = new Execution(ids.next(program), program, StartKind.BOOT, this::retired);
        if (slots.putIfAbsent(program, mine) != null) return;
        Thread.ofVirtual().name("kiln-persistent-" + mine.id()).start(() -> begin(mine));
    }

    /** The pool's retirement hook (on the retiring thread): the slot is forgotten, the VM stopped, a kept program restarted. */
    private void retired(Execution e, Ending ending) {
        slots.remove(e.programHash(), e);
        teardown.retired(e, ending);
        restarts.ended(e, ending, closing);
    }

    /** The guest stopped answering during a request: the execution is retired and its VM killed. */
    void lost(Execution e, String why) {
        e.retire(EndReason.GUEST_LOST, "guest lost: " + why);
    }

    boolean timedOut(Execution e, long sentAtNanos) {
        if (!e.wedgedAfterTimeout(sentAtNanos)) return false;
        long seconds = e.requestTimeout().toSeconds();
        if (!e.retire(EndReason.WEDGED, "two requests timed out with no response to any request between them")) {
            return false;
        }
        LOG.log(System.Logger.Level.WARNING, "the program of " + e.id() + " answered nothing while two requests timed out ("
                + seconds + " s each; a handler blocking its event loop?); replacing its VM");
        return true;
    }

    /** Serves the guest API of the programs that ask for it in VMs launched from now on (null: none). */
    public void serveGuestApi(GuestApis apis) {
        guestApis = apis;
    }

    /** Tells {@code o} of each VM launched from now on (the node's logs follow their consoles). */
    public void observe(VmObserver o) {
        observer = o == null ? VmObserver.NONE : o;
    }

    /** What is running now, for /about/executions/list. */
    public List<ExecutionView> executions() {
        return live.stream().filter(e -> e.vm() != null).map(Execution::view)
                .sorted(Comparator.comparing(ExecutionView::startedAt)).toList();
    }

    /** The execution serving a program now, if one is. */
    public Optional<Execution> running(ItemHash program) {
        Execution e = slots.get(program);
        return e != null && e.phase() == Phase.SERVING ? Optional.of(e) : Optional.empty();
    }

    public long memoryReservedMiB() {
        return budget.reservedMiB();
    }

    public long memoryBudgetMiB() {
        return budget.totalMiB();
    }

    /**
     * Memory for a VM the pool does not run (an instance): its guest RAM plus the VMM's overhead,
     * made room for by stopping idle program VMs as a program's start would.
     *
     * @return the MiB reserved, to give back with {@link #releaseMemory}
     * @throws NodeException {@code no_capacity} when it does not fit
     */
    public long reserveMemory(String who, long guestMiB) throws NodeException, InterruptedException {
        long cost = guestMiB + config.vmmOverheadMiB();
        admission.reserve(who, cost);
        return cost;
    }

    /** Counts a VM that already runs (one a node re-adopts), even past the budget: it is not stopped for it. */
    public long countMemory(long guestMiB) {
        long cost = guestMiB + config.vmmOverheadMiB();
        budget.count(cost);
        return cost;
    }

    public void releaseMemory(long mib) {
        admission.release(mib);
    }

    /** Stops one program's VM now, gracefully (for the CLI and tests); false if none was serving. */
    public boolean stop(ItemHash program, String why) {
        Optional<Execution> e = running(program);
        return e.isPresent() && e.get().retire(EndReason.STOPPED_BY_OPERATOR, why);
    }

    /**
     * Drains one program's VM because something it follows was amended (docs/events.md): it takes
     * no new request, finishes those in flight, then halts; false if none was serving.
     */
    public boolean amended(ItemHash program, String why) {
        Optional<Execution> e = running(program);
        return e.isPresent() && e.get().retire(EndReason.AMENDED, why);
    }

    /**
     * Counts of VMs by state (for /about and the {@code kiln_node_vms} gauge): each launched VM in
     * its own state, and a start that holds its memory but has no VM object yet as BOOTING.
     */
    public Map<VmState, Long> vmsByState() {
        Map<VmState, Long> m = new EnumMap<>(VmState.class);
        for (Execution e : live) {
            Vm vm = e.vm();
            if (vm != null) m.merge(vm.state(), 1L, Long::sum);
            else if (e.memoryMiB() > 0 && e.phase() == Phase.STARTING) m.merge(VmState.BOOTING, 1L, Long::sum);
        }
        return m;
    }

    /** Retires every execution (their VMs halt in parallel) and waits for their VMMs to exit. */
    /** The node's VM networking (attach/detach happen in the cold start and teardown). */
    /** The node's persistent volumes, unless it refuses them. */
    public Optional<PersistentVolumes> persistentVolumes() {
        return planner.persistentVolumes();
    }

    /** Where the node exports data directories, unless it refuses {@code export}. */
    public Optional<dev.kiln.node.export.DataExports> dataExports() {
        return planner.dataExports();
    }

    public ProgramNetworks networks() {
        return networks;
    }

    /** Where persistent VMs that outlive the pool are recorded; null if none do. */
    public Detachment detachment() {
        return detachment;
    }

    /**
     * Retires every execution and waits for their VMMs to exit — except the persistent programs'
     * detached VMs, which are left running for the next node (docs/node.md, "Restarts").
     */
    @Override
    public void close() {
        close(true);
    }

    /** As {@link #close()}, but persistent VMs are stopped too (tests; a node that is being removed). */
    public void closeStoppingAll() {
        close(false);
    }

    private void close(boolean leaveDetached) {
        closing = true;
        keepWarm.close();
        restarts.close();
        List<Execution> all = new ArrayList<>(live);
        for (Execution e : all) {
            Vm vm = e.vm();
            boolean leave = leaveDetached && vm != null && vm.adoption().isPresent() && e.phase() == Phase.SERVING;
            e.retire(leave ? EndReason.LEFT_RUNNING : EndReason.SHUTDOWN, null);
        }
        long deadline = System.nanoTime() + config.stopGrace().plus(EXIT_WAIT).toNanos();
        for (Execution e : all) {
            // A start still in its launch stops its VM itself when the launch returns; the launcher's close kills it.
            Vm vm = e.vm();
            if (vm == null) continue;
            try {
                e.gone().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                vm.kill();
            } catch (ExecutionException | TimeoutException ex) {
                vm.kill();
            }
        }
        snapshots.close();
    }
}
