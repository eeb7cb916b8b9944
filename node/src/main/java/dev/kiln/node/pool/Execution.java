package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestConnection;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * One program in one VM, and the one state machine of its life: {@link Phase} STARTING →
 * SERVING → RETIRED → GONE, in-flight count and {@link Ending} held together in one immutable
 * {@link State} moved by compare-and-set (no lock: requests for different programs never meet,
 * requests for the same one race on one CAS).
 *
 * <p><b>The execution and its VM.</b> The VM's {@link dev.kiln.vm.VmLifecycle} is the truth
 * about the VM; the phase is the truth about whether the node sends it requests, and it follows
 * the VM, never the other way round except for BUSY / IDLE: while SERVING, the in-flight count
 * moves the VM between READY, BUSY and IDLE ({@link #settle}); a VM leaving the serving states
 * on its own (FAILED, STOPPING) retires the execution on the thread that moved it; a request
 * enters only while the phase is SERVING <em>and</em> the VM serves.
 *
 * <p><b>Retirement happens once.</b> {@link #retire} and {@link #retireIfIdle} race on the CAS;
 * the winner records the ending and tells the pool (which forgets the slot and stops the VM,
 * halted or killed as the reason says). A request that got in before keeps its VM until its
 * answer is done (graceful reasons); one that comes after finds the execution retired and the
 * pool starts a fresh one.
 *
 * <p><b>Other ways to live</b> are transitions of this machine, not structures beside it: a
 * restore is another {@link StartKind} that reaches SERVING without a boot; a persistent program
 * is another {@link KeepWarmPolicy} (no idle timeout, a restart delay after a death).
 */
public final class Execution {

    /** The whole mutable state: one value, replaced by CAS. {@code ending} is set from RETIRED on. */
    record State(Phase phase, int inFlight, Ending ending) {
        State {
            if (inFlight < 0) throw new IllegalArgumentException("in-flight count below zero");
        }
    }

    private final String id;
    private final ItemHash programHash;
    /** BOOT until the start path finds a snapshot to restore. */
    private volatile StartKind startKind;
    private final BiConsumer<Execution, Ending> onRetired;
    private final AtomicReference<State> state = new AtomicReference<>(new State(Phase.STARTING, 0, null));
    private final CompletableFuture<Execution> serving = new CompletableFuture<>();
    private final CompletableFuture<Ending> gone = new CompletableFuture<>();
    private final AtomicLong served = new AtomicLong();
    private volatile long lastActiveNanos = System.nanoTime();
    /** When the program last sent a response head to any request (nanoTime). */
    private volatile long lastAnswerNanos = System.nanoTime();
    /** When the last request was sent that timed out with the program silent since (0: none). */
    private volatile long silentTimeoutNanos;

    // Set once each while STARTING, by the start path, in this order.
    private volatile ResolvedProgram program;
    private volatile KeepWarmPolicy keepWarm;
    private volatile long memoryMiB;
    private volatile ExecutionRecord record;
    private volatile Vm vm;
    private volatile Duration boot;
    private volatile BootBreakdown breakdown;

    /** @param onRetired told once, by the thread whose move retired the execution */
    Execution(String id, ItemHash programHash, StartKind startKind, BiConsumer<Execution, Ending> onRetired) {
        this.id = Objects.requireNonNull(id, "id");
        this.programHash = Objects.requireNonNull(programHash, "programHash");
        this.startKind = Objects.requireNonNull(startKind, "startKind");
        this.onRetired = Objects.requireNonNull(onRetired, "onRetired");
    }

    /** The cold start's parts: resolving the program, the VM's boot to the agent's hello, configure. */
    public record BootBreakdown(Duration resolve, Duration vmBoot, Duration configure) {
    }

    // ------------------------------------------------------------------ moves

    /** STARTING → SERVING; false if it was retired meanwhile (e.g. the node is shutting down). */
    boolean started(Duration took, BootBreakdown parts) {
        if (vm == null) throw new IllegalStateException("execution " + id + " has no VM to serve with");
        boot = took;
        breakdown = parts;
        while (true) {
            State s = state.get();
            if (s.phase() != Phase.STARTING) {
                if (s.phase() == Phase.SERVING) throw new IllegalStateException("execution " + id + " started twice");
                return false;
            }
            if (cas(s, new State(Phase.SERVING, 0, null))) break;
        }
        lastActiveNanos = System.nanoTime();
        settle();
        serving.complete(this);
        return true;
    }

    /** Takes a request: false unless SERVING with a VM that serves. */
    boolean enter() {
        while (true) {
            State s = state.get();
            if (s.phase() != Phase.SERVING || !vm.state().isServing()) return false;
            if (cas(s, new State(Phase.SERVING, s.inFlight() + 1, null))) break;
        }
        served.incrementAndGet();
        lastActiveNanos = System.nanoTime();
        settle();
        return true;
    }

    /** A request that {@link #enter}ed is done; counted down in SERVING and in RETIRED alike. */
    void exit() {
        while (true) {
            State s = state.get();
            if (s.phase() == Phase.GONE) return; // the VM's end cut the request short: nothing left to count
            if (s.inFlight() == 0) {
                throw new IllegalStateException("execution " + id + ": exit without a request in flight (" + s + ")");
            }
            if (cas(s, new State(s.phase(), s.inFlight() - 1, s.ending()))) break;
        }
        lastActiveNanos = System.nanoTime();
        settle();
    }

    /** STARTING or SERVING → RETIRED, whatever is in flight; true for the one call that did it. */
    boolean retire(EndReason reason, String detail) {
        Ending ending = new Ending(reason, detail);
        while (true) {
            State s = state.get();
            if (s.phase() == Phase.RETIRED || s.phase() == Phase.GONE) return false;
            if (cas(s, new State(Phase.RETIRED, s.inFlight(), ending))) break;
        }
        retired(ending);
        return true;
    }

    /** SERVING with nothing in flight → RETIRED; false if a request is in flight or it is not SERVING. */
    boolean retireIfIdle(EndReason reason, String detail) {
        Ending ending = new Ending(reason, detail);
        State idle = state.get();
        if (idle.phase() != Phase.SERVING || idle.inFlight() != 0) return false;
        if (!cas(idle, new State(Phase.RETIRED, 0, ending))) return false;
        retired(ending);
        return true;
    }

    /**
     * RETIRED → GONE, once: {@code release} runs on the winning thread (memory, record), then
     * {@link #gone()} completes. Requests still counted in flight are the ones the VM's end cut.
     *
     * @throws IllegalStateException if the execution was never retired: nothing may end unnoticed
     */
    boolean end(Runnable release) {
        while (true) {
            State s = state.get();
            if (s.phase() == Phase.GONE) return false;
            if (s.phase() != Phase.RETIRED) throw new IllegalStateException("execution " + id + " ends without retiring (" + s + ")");
            if (cas(s, new State(Phase.GONE, s.inFlight(), s.ending()))) break;
        }
        try {
            release.run();
        } finally {
            gone.complete(ending());
        }
        return true;
    }

    private boolean cas(State from, State to) {
        if (!from.phase().next().contains(to.phase())) {
            throw new IllegalStateException("execution " + id + " cannot go from " + from.phase() + " to " + to.phase());
        }
        return state.compareAndSet(from, to);
    }

    private void retired(Ending ending) {
        // Waiters of a start that will not finish learn why; a started execution's future is done already.
        serving.completeExceptionally(StartErrors.ended(programHash, ending));
        onRetired.accept(this, ending);
    }

    /** The start failed with {@code failure}: retired, and every request waiting for it gets that error. */
    void failStart(NodeException failure, String detail) {
        serving.completeExceptionally(failure);
        retire(EndReason.START_FAILED, detail);
    }

    /**
     * Brings the VM's state in line with the in-flight count (BUSY when &gt; 0, IDLE when 0) while
     * the VM serves.
     * Every thread that changed the count calls this; each move is a CAS and the loop re-reads
     * both, so the last caller leaves the VM consistent with the last count.
     */
    private void settle() {
        while (true) {
            State s = state.get();
            Vm v = vm;
            // RETIRED too: while its VM drains, the VM still says whether anything runs on it.
            if (s.phase() != Phase.SERVING && s.phase() != Phase.RETIRED || v == null) return;
            VmState now = v.state();
            if (!now.isServing()) return;
            VmState want = s.inFlight() > 0 ? VmState.BUSY : VmState.IDLE;
            if (now == want) return;
            v.lifecycle().transition(now, want);
        }
    }

    // ------------------------------------------------------------------ set while starting

    void resolved(ResolvedProgram p, KeepWarmPolicy policy) {
        program = p;
        keepWarm = policy;
    }

    void reserved(long mib) {
        memoryMiB = mib;
    }

    /** While STARTING: this start restores a snapshot instead of booting. */
    void restoring() {
        startKind = StartKind.RESTORE;
    }

    /** While STARTING: this start takes over a VM an earlier node left running. */
    void adopting() {
        startKind = StartKind.ADOPT;
    }

    void recorded(ExecutionRecord r) {
        record = r;
    }

    void launched(Vm v) {
        vm = v;
    }

    // ------------------------------------------------------------------ reading

    public String id() {
        return id;
    }

    public ItemHash programHash() {
        return programHash;
    }

    public StartKind startKind() {
        return startKind;
    }

    public Phase phase() {
        return state.get().phase();
    }

    /** Why it stopped taking requests, once it has; null before. */
    public Ending ending() {
        return state.get().ending();
    }

    State state() {
        return state.get();
    }

    /** Completes with this execution when it is SERVING, or with the error that ended its start. */
    CompletableFuture<Execution> serving() {
        return serving;
    }

    /** Completes when the VMM has exited and everything is released. */
    CompletableFuture<Ending> gone() {
        return gone;
    }

    /** Null until resolved. */
    public ResolvedProgram program() {
        return program;
    }

    KeepWarmPolicy keepWarm() {
        return keepWarm;
    }

    /** Null until launched. */
    public Vm vm() {
        return vm;
    }

    public GuestConnection guest() {
        return vm.guest();
    }

    ExecutionRecord record() {
        return record;
    }

    long memoryMiB() {
        return memoryMiB;
    }

    /** From the start of the cold start to the program configured; null until then. */
    public Duration bootDuration() {
        return boot;
    }

    public BootBreakdown bootBreakdown() {
        return breakdown;
    }

    /** How long a request may take to start answering: the program's {@code resources.seconds}. */
    public Duration requestTimeout() {
        return Duration.ofSeconds(program.resources().seconds());
    }

    public long requestsServed() {
        return served.get();
    }

    public int inFlight() {
        return state.get().inFlight();
    }

    public boolean isRetired() {
        Phase p = phase();
        return p == Phase.RETIRED || p == Phase.GONE;
    }

    /** The program sent a response head: it is answering. */
    void answered() {
        lastAnswerNanos = System.nanoTime();
    }

    /** True if no response head arrived from the program since {@code sinceNanos}. */
    boolean silentSince(long sinceNanos) {
        return lastAnswerNanos - sinceNanos < 0;
    }

    /**
     * A request sent at {@code sentAtNanos} timed out. True if the program is wedged: an earlier
     * request had timed out too and nothing at all was answered since that one was sent. One
     * timeout alone proves nothing (a slow handler, a long computation); two in a row with total
     * silence between them is a program that no longer runs its event loop.
     */
    boolean wedgedAfterTimeout(long sentAtNanos) {
        if (!silentSince(sentAtNanos)) {
            silentTimeoutNanos = 0;
            return false;
        }
        long earlier = silentTimeoutNanos;
        if (earlier != 0 && earlier != sentAtNanos && silentSince(earlier)) return true;
        silentTimeoutNanos = sentAtNanos;
        return false;
    }

    long lastActiveNanos() {
        return lastActiveNanos;
    }

    /** A snapshot for /about/executions/list; only for an execution whose VM was launched. */
    public ExecutionView view() {
        Vm v = vm;
        Instant started = v.startedAt();
        return new ExecutionView(id, v.id(), programHash, program.runtime().resolved(), v.state(),
                v.accelerator().id(), started, Duration.between(started, Instant.now()), boot, startKind, breakdown, served.get(),
                inFlight(), memoryMiB, v.pid());
    }

    @Override
    public String toString() {
        return "Execution[" + id + ", " + state.get() + "]";
    }
}
