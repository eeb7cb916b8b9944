package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestConfigureException;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.GuestTimeoutException;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.metrics.NodeMetrics;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.records.ExecutionRecords;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's running programs: at most one VM per program, booted by the first request for it.
 *
 * <p><b>Single flight without a global lock.</b> Each program has a slot in a
 * {@link ConcurrentHashMap}: a future of its execution. The first request puts an incomplete
 * future there ({@code putIfAbsent}) and boots on its own thread; concurrent requests for the same
 * program wait on that future; requests for other programs find other slots and boot in
 * parallel. A failed boot removes its slot, so nothing of it is kept and the next request starts
 * over.
 *
 * <p><b>Admission.</b> A VM reserves its guest RAM plus the VMM's overhead from the host memory
 * budget (a CAS counter). When the budget is full the least recently used idle VMs are stopped
 * to make room; if that is not enough the request gets {@code 503 no_capacity}.
 *
 * <p><b>Keep-warm.</b> After its last request a VM stays up for the idle timeout, then is
 * halted gracefully. A VM whose VMM exits, or whose guest stops answering, is evicted at once.
 */
public final class ExecutionPool implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ExecutionPool.class.getName());
    private static final Duration EXIT_WAIT = Duration.ofSeconds(5);

    private final PoolConfig config;
    private final VmLauncher launcher;
    private final ProgramResolver resolver;
    private final VmPlanner planner;
    private final ExecutionRecords records;
    private final NodeMetrics metrics;
    private final MemoryBudget budget;
    private final ConcurrentHashMap<ItemHash, CompletableFuture<Execution>> slots = new ConcurrentHashMap<>();
    /** Every execution whose VMM has not exited yet, retired or not. */
    private final Set<Execution> live = ConcurrentHashMap.newKeySet();
    private final Map<Execution, CompletableFuture<Void>> gone = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    /** Boots between launch and configured: they have no execution yet, but they are VMs. */
    private final java.util.concurrent.atomic.AtomicInteger booting = new java.util.concurrent.atomic.AtomicInteger();
    private final ScheduledThreadPoolExecutor timer;
    private volatile boolean closing;
    private volatile VmObserver observer = VmObserver.NONE;

    public ExecutionPool(PoolConfig config, VmLauncher launcher, ProgramResolver resolver, VmPlanner planner,
                         ExecutionRecords records, NodeMetrics metrics) {
        this.config = config;
        this.launcher = launcher;
        this.resolver = resolver;
        this.planner = planner;
        this.records = records;
        this.metrics = metrics;
        this.budget = new MemoryBudget(config.memoryBudgetMiB());
        this.timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon().name("kiln-keep-warm").unstarted(r));
        this.timer.setRemoveOnCancelPolicy(true);
        for (VmState s : VmState.values()) metrics.vmsInState(s.name(), () -> countIn(s));
        metrics.memoryGauges(budget::reservedMiB, budget::totalMiB);
    }

    /**
     * The execution of a program, booting it first if none is running; the caller must close
     * the lease when its response is complete.
     */
    public Lease acquire(ItemHash program) throws NodeException, InterruptedException {
        while (true) {
            if (closing) throw shuttingDown();
            CompletableFuture<Execution> slot = slots.get(program);
            boolean cold;
            if (slot == null) {
                CompletableFuture<Execution> mine = new CompletableFuture<>();
                slot = slots.putIfAbsent(program, mine);
                if (slot == null) {
                    slot = mine;
                    boot(program, mine);
                }
                cold = true;
            } else {
                cold = !slot.isDone();
            }
            Execution e = await(slot);
            if (e.enter()) return new Lease(this, e, cold);
            // Retired between the lookup and now (idle stop, eviction, death): forget it, boot anew.
            slots.remove(program, slot);
        }
    }

    /** Tells {@code o} of each VM launched from now on (the node's logs follow their consoles). */
    public void observe(VmObserver o) {
        observer = o == null ? VmObserver.NONE : o;
    }

    /** What is running now, for /about/executions/list. */
    public List<ExecutionView> executions() {
        return live.stream().map(Execution::view).sorted(Comparator.comparing(ExecutionView::startedAt)).toList();
    }

    /** The execution serving a program now, if one is up. */
    public java.util.Optional<Execution> running(ItemHash program) {
        CompletableFuture<Execution> slot = slots.get(program);
        if (slot == null || !slot.isDone() || slot.isCompletedExceptionally()) return java.util.Optional.empty();
        Execution e = slot.join();
        return e.isRetired() ? java.util.Optional.empty() : java.util.Optional.of(e);
    }

    public long memoryReservedMiB() {
        return budget.reservedMiB();
    }

    public long memoryBudgetMiB() {
        return budget.totalMiB();
    }

    /** Stops one program's VM now (for the CLI and tests); false if none was running. */
    public boolean stop(ItemHash program, String reason) {
        java.util.Optional<Execution> e = running(program);
        if (e.isEmpty()) return false;
        retireAndStop(e.get(), reason, true);
        return true;
    }

    // ------------------------------------------------------------------ boot

    private void boot(ItemHash programHash, CompletableFuture<Execution> mine) {
        long start = System.nanoTime();
        try {
            Execution e = bootNow(programHash, mine, start);
            mine.complete(e);
        } catch (NodeException e) {
            slots.remove(programHash, mine);
            metrics.coldStart(e.code().wire(), Duration.ofNanos(System.nanoTime() - start));
            mine.completeExceptionally(e);
        } catch (InterruptedException e) {
            slots.remove(programHash, mine);
            mine.completeExceptionally(new NodeException(ErrorCode.SHUTTING_DOWN, "the boot was interrupted", e));
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            slots.remove(programHash, mine);
            LOG.log(System.Logger.Level.ERROR, "booting program " + programHash + " failed unexpectedly", e);
            metrics.coldStart(ErrorCode.INTERNAL.wire(), Duration.ofNanos(System.nanoTime() - start));
            mine.completeExceptionally(new NodeException(ErrorCode.INTERNAL,
                    "the node failed to start program " + programHash + "; its log has the details", e));
        }
    }

    private Execution bootNow(ItemHash programHash, CompletableFuture<Execution> mine, long start)
            throws NodeException, InterruptedException {
        ResolvedProgram program = resolver.resolve(programHash);
        long resolved = System.nanoTime();
        long cost = VmPlanner.memoryCost(program, config.vmmOverheadMiB());
        admit(program, cost);
        String id = programHash.shortForm() + "-" + ids.incrementAndGet();
        Path workDir = config.vmsDir().resolve(id);
        VmPlan plan;
        try {
            plan = planner.plan(program, id, workDir);
        } catch (IllegalArgumentException e) {
            budget.release(cost);
            throw new NodeException(ErrorCode.UNSUPPORTED, "program " + programHash + " cannot be run as a VM here: "
                    + e.getMessage(), e);
        }
        Instant startedAt = Instant.now();
        ExecutionRecord record = new ExecutionRecord(id, programHash, program.runtime().resolved(),
                launcher.accelerator().id(), VmState.BOOTING.name(), startedAt, null, null, 0, null);
        records.save(record);
        booting.incrementAndGet();
        try {
            return startProgram(programHash, program, plan, record, cost, id, mine, start, resolved);
        } finally {
            booting.decrementAndGet();
        }
    }

    private Execution startProgram(ItemHash programHash, ResolvedProgram program, VmPlan plan, ExecutionRecord record,
                                   long cost, String id, CompletableFuture<Execution> mine, long start, long resolved)
            throws NodeException, InterruptedException {
        Vm vm;
        try {
            vm = launcher.launch(plan.spec());
            observer.launched(id, programHash, vm);
        } catch (VmBootException e) {
            observer.bootFailed(id, programHash, e.getMessage());
            budget.release(cost);
            records.save(record.ended(VmState.FAILED.name(), Instant.now(), 0, "boot failed: " + firstLine(e.getMessage())));
            LOG.log(System.Logger.Level.WARNING, "the VM of program " + programHash + " did not boot: " + e.getMessage());
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM for program " + programHash
                    + " did not boot (" + firstLine(e.getMessage()) + "); the node's log has its console", e);
        } catch (InterruptedException | RuntimeException e) {
            budget.release(cost);
            records.save(record.ended(VmState.FAILED.name(), Instant.now(), 0, "boot interrupted"));
            throw e;
        }
        Duration idle = config.idleTimeout() != null ? config.idleTimeout()
                : Duration.ofSeconds(program.resources().seconds());
        Execution execution = new Execution(id, program, vm, cost, idle, mine);
        CompletableFuture<Void> exitHandled = new CompletableFuture<>();
        gone.put(execution, exitHandled);
        live.add(execution);
        vm.exited().whenComplete((status, err) -> onVmExit(execution, record, status, exitHandled));
        vm.lifecycle().onTransition((from, to) -> {
            if (to == VmState.FAILED) evict(execution, "the VM failed");
        });
        long launched = System.nanoTime();
        try {
            vm.guest().configure(plan.config());
        } catch (GuestConfigureException e) {
            killFailedBoot(execution, "program did not start: " + e.code());
            LOG.log(System.Logger.Level.WARNING, "program " + programHash + " did not start: " + e.getMessage()
                    + (e.traceback() == null ? "" : "\n" + e.traceback()));
            ErrorCode code = e.code().equals("internal") ? ErrorCode.BOOT_FAILED : ErrorCode.INVALID_CODE;
            throw new NodeException(code, "program " + programHash + " did not start: " + e.reason()
                    + " (" + e.code() + ")", e);
        } catch (GuestTimeoutException e) {
            killFailedBoot(execution, "program did not start in time");
            throw new NodeException(ErrorCode.PROGRAM_TIMEOUT, "program " + programHash
                    + " did not finish starting in time (" + e.getMessage() + ")", e);
        } catch (GuestChannelClosedException e) {
            killFailedBoot(execution, "the VM died while the program started");
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM of program " + programHash
                    + " died while the program started; the node's log has its console", e);
        } catch (GuestException e) {
            killFailedBoot(execution, "configuration failed");
            throw new NodeException(ErrorCode.BOOT_FAILED, "program " + programHash + " could not be configured: "
                    + e.getMessage(), e);
        }
        long configured = System.nanoTime();
        Duration took = Duration.ofNanos(configured - start);
        execution.ready(took, new Execution.BootBreakdown(Duration.ofNanos(resolved - start),
                Duration.ofNanos(launched - resolved), Duration.ofNanos(configured - launched)));
        if (!vm.state().isServing()) {
            killFailedBoot(execution, "the VM died right after the program started");
            throw new NodeException(ErrorCode.BOOT_FAILED, "the VM of program " + programHash
                    + " died right after starting; the node's log has its console");
        }
        records.save(record.ready(VmState.READY.name(), took));
        metrics.coldStart("ok", took);
        LOG.log(System.Logger.Level.INFO, "program " + programHash + " ready in " + took.toMillis() + " ms (" + id
                + ", " + vm.accelerator().id() + "; resolve " + (resolved - start) / 1_000_000 + " ms, boot to hello "
                + (launched - resolved) / 1_000_000 + " ms, configure " + (configured - launched) / 1_000_000 + " ms)");
        armIdleTimer(execution, idle);
        if (closing) {
            retireAndStop(execution, "node shutdown", true);
            throw shuttingDown();
        }
        return execution;
    }

    private void killFailedBoot(Execution e, String reason) {
        e.retire(reason);
        e.vm().kill();
    }

    private void admit(ResolvedProgram program, long cost) throws NodeException, InterruptedException {
        if (budget.tryReserve(cost)) return;
        if (cost > budget.totalMiB()) {
            throw new NodeException(ErrorCode.NO_CAPACITY, "program " + program.messageHash() + " needs " + cost
                    + " MiB (resources.memory + VMM overhead) but the node's whole memory budget is "
                    + budget.totalMiB() + " MiB");
        }
        List<Execution> idle = new ArrayList<>(live.stream().filter(x -> !x.isRetired() && x.inFlight() == 0).toList());
        idle.sort(Comparator.comparingLong(Execution::lastActiveNanos));
        for (Execution victim : idle) {
            if (!victim.retireIfIdle("stopped to make room for another program")) continue;
            LOG.log(System.Logger.Level.INFO, "stopping idle " + victim.id() + " to make room for " + program.messageHash());
            slots.remove(victim.programHash(), victim.slot);
            stopAndWait(victim);
            if (budget.tryReserve(cost)) return;
        }
        throw new NodeException(ErrorCode.NO_CAPACITY, "no room for another VM: " + budget.reservedMiB() + " of "
                + budget.totalMiB() + " MiB are reserved by " + live.size() + " busy VM(s) and program "
                + program.messageHash() + " needs " + cost + " MiB; try again shortly, or give the node a larger"
                + " --memory-budget");
    }

    private void stopAndWait(Execution e) throws InterruptedException {
        e.vm().stop(config.stopGrace());
        CompletableFuture<Void> handled = gone.get(e);
        if (handled == null) return;
        try {
            handled.get(config.stopGrace().plus(EXIT_WAIT).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException ex) {
            LOG.log(System.Logger.Level.WARNING, "VM " + e.id() + " did not exit after stop; killing it");
            e.vm().kill();
        }
    }

    // ------------------------------------------------------------------ keep-warm and eviction

    private void armIdleTimer(Execution e, Duration delay) {
        if (closing) return;
        try {
            timer.schedule(() -> idleCheck(e), Math.max(1, delay.toMillis()), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            // the pool is closing; it stops every VM itself
        }
    }

    /** Runs on the timer thread: cheap checks only; the stop itself runs on a virtual thread. */
    private void idleCheck(Execution e) {
        if (e.isRetired() || !e.vm().state().isServing()) return;
        long idleNanos = System.nanoTime() - e.lastActiveNanos();
        long remaining = e.idleTimeout().toNanos() - idleNanos;
        if (e.inFlight() == 0 && remaining <= 0) {
            if (e.retireIfIdle("idle for " + e.idleTimeout().toSeconds() + " s")) {
                retireAndStop(e, null, false);
                return;
            }
        }
        armIdleTimer(e, e.inFlight() > 0 ? e.idleTimeout() : Duration.ofNanos(Math.max(remaining, 1_000_000)));
    }

    /** Retires (if {@code reason} is given) and stops the VM on a virtual thread. */
    private void retireAndStop(Execution e, String reason, boolean force) {
        if (reason != null) {
            if (force) e.retire(reason);
            else if (!e.retireIfIdle(reason)) e.retire(reason);
        }
        slots.remove(e.programHash(), e.slot);
        Thread.ofVirtual().name("kiln-stop-" + e.id()).start(() -> {
            LOG.log(System.Logger.Level.INFO, "stopping " + e.id() + ": " + e.endReason());
            e.vm().stop(config.stopGrace());
        });
    }

    /** The guest or VM is gone: forget the execution and make sure its VMM is dead. */
    private void evict(Execution e, String reason) {
        e.retire(reason);
        slots.remove(e.programHash(), e.slot);
    }

    void lost(Execution e, String why) {
        if (e.retire("guest lost: " + why)) {
            LOG.log(System.Logger.Level.WARNING, "lost the guest of " + e.id() + ": " + why + "; killing its VM");
        }
        slots.remove(e.programHash(), e.slot);
        e.vm().kill();
    }

    private void onVmExit(Execution e, ExecutionRecord record, Integer status, CompletableFuture<Void> handled) {
        try {
            boolean planned = e.endReason() != null;
            e.retire("the VMM exited" + (status == null ? "" : " with status " + status));
            slots.remove(e.programHash(), e.slot);
            live.remove(e);
            if (e.releaseMemory()) budget.release(e.memoryMiB());
            VmState state = e.vm().state();
            boolean clean = planned && e.bootDuration() != null && state != VmState.FAILED;
            String finalState = state.isTerminal() ? state.name() : (clean ? VmState.STOPPED.name() : VmState.FAILED.name());
            ExecutionRecord base = e.bootDuration() == null ? record : record.ready(finalState, e.bootDuration());
            records.save(base.ended(finalState, Instant.now(), e.requestsServed(), e.endReason()));
            if (!planned) {
                LOG.log(System.Logger.Level.WARNING, "the VM of " + e.id() + " exited unexpectedly (status " + status
                        + "); console tail:\n" + safeTail(e.vm()));
            } else {
                LOG.log(System.Logger.Level.INFO, e.id() + " ended: " + e.endReason());
            }
            if (finalState.equals(VmState.STOPPED.name())) deleteQuietly(e.vm().spec().workDir());
        } finally {
            gone.remove(e);
            handled.complete(null);
        }
    }

    // ------------------------------------------------------------------ shutdown

    /** Stops every VM (gracefully, in parallel) and waits for their VMMs to exit. */
    @Override
    public void close() {
        closing = true;
        timer.shutdownNow();
        List<Execution> all = List.copyOf(live);
        List<Thread> stoppers = new ArrayList<>();
        for (Execution e : all) {
            e.retire("node shutdown");
            slots.remove(e.programHash(), e.slot);
            stoppers.add(Thread.ofVirtual().name("kiln-stop-" + e.id()).start(() -> e.vm().stop(config.stopGrace())));
        }
        long deadline = System.nanoTime() + config.stopGrace().plus(EXIT_WAIT).toNanos();
        for (Thread t : stoppers) {
            try {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Execution e : all) {
            CompletableFuture<Void> h = gone.get(e);
            if (h == null) continue;
            try {
                h.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                e.vm().kill();
            } catch (ExecutionException | TimeoutException ex) {
                e.vm().kill();
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private long countIn(VmState s) {
        long n = s == VmState.BOOTING ? booting.get() : 0;
        for (Execution e : live) if (e.vm().state() == s) n++;
        return n;
    }

    /** Counts of VMs by state, boots in progress included (for /about). */
    public Map<VmState, Long> vmsByState() {
        Map<VmState, Long> m = new EnumMap<>(VmState.class);
        if (booting.get() > 0) m.put(VmState.BOOTING, (long) booting.get());
        for (Execution e : live) m.merge(e.vm().state(), 1L, Long::sum);
        return m;
    }

    private static Execution await(CompletableFuture<Execution> slot) throws NodeException, InterruptedException {
        try {
            return slot.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof NodeException ne) {
                throw new NodeException(ne.code(), ne.getMessage(), ne.details(), ne);
            }
            throw new NodeException(ErrorCode.INTERNAL, "the program could not be started; the node's log has the details",
                    e.getCause());
        }
    }

    private static NodeException shuttingDown() {
        return new NodeException(ErrorCode.SHUTTING_DOWN, "the node is shutting down; try another node or again later");
    }

    private static String firstLine(String s) {
        if (s == null) return "no reason given";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
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
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not remove " + dir + ": " + e.getMessage());
        }
    }
}
