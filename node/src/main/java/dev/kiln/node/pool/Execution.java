package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestConnection;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One program running in one VM, as the pool sees it. Requests {@link #enter} and {@link #exit};
 * the count of requests in flight is the truth from which the VM's BUSY / IDLE state follows.
 * The count goes to {@value #RETIRED} exactly once, when the execution stops taking requests
 * (idle, evicted, dead, node shutdown): a request that loses that race boots a fresh VM.
 */
public final class Execution {
    static final int RETIRED = -1;

    private final String id;
    private final ResolvedProgram program;
    private final Vm vm;
    private volatile Duration boot;
    private final long memoryMiB;
    private final Duration idleTimeout;
    private final Duration requestTimeout;
    final CompletableFuture<Execution> slot;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicReference<String> endReason = new AtomicReference<>();
    private volatile long lastActiveNanos = System.nanoTime();

    Execution(String id, ResolvedProgram program, Vm vm, long memoryMiB, Duration idleTimeout,
              CompletableFuture<Execution> slot) {
        this.id = id;
        this.program = program;
        this.vm = vm;
        this.memoryMiB = memoryMiB;
        this.idleTimeout = idleTimeout;
        this.requestTimeout = Duration.ofSeconds(program.resources().seconds());
        this.slot = slot;
    }

    public String id() {
        return id;
    }

    public ItemHash programHash() {
        return program.messageHash();
    }

    public ResolvedProgram program() {
        return program;
    }

    public Vm vm() {
        return vm;
    }

    public GuestConnection guest() {
        return vm.guest();
    }

    /** The cold start's parts: resolving the program, the VM's boot to the agent's hello, configure. */
    public record BootBreakdown(Duration resolve, Duration vmBoot, Duration configure) {
    }

    private volatile BootBreakdown breakdown;

    /** From the start of the cold start to the program configured; null until then. */
    public Duration bootDuration() {
        return boot;
    }

    public BootBreakdown bootBreakdown() {
        return breakdown;
    }

    void ready(Duration took, BootBreakdown parts) {
        boot = took;
        breakdown = parts;
    }

    /** How long a request may take to start answering: the program's {@code resources.seconds}. */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    long memoryMiB() {
        return memoryMiB;
    }

    public long requestsServed() {
        return served.get();
    }

    public int inFlight() {
        return Math.max(0, inFlight.get());
    }

    public boolean isRetired() {
        return inFlight.get() == RETIRED;
    }

    long lastActiveNanos() {
        return lastActiveNanos;
    }

    /** Why it stopped taking requests, once it has. */
    public String endReason() {
        return endReason.get();
    }

    /** Takes a request unless the execution is retired or its VM is no longer serving. */
    boolean enter() {
        while (true) {
            int n = inFlight.get();
            if (n == RETIRED || !vm.state().isServing()) return false;
            if (inFlight.compareAndSet(n, n + 1)) break;
        }
        served.incrementAndGet();
        lastActiveNanos = System.nanoTime();
        settle();
        return true;
    }

    void exit() {
        while (true) {
            int n = inFlight.get();
            if (n <= 0) return; // retired meanwhile (the VM died or the node stops): nothing to count down
            if (inFlight.compareAndSet(n, n - 1)) break;
        }
        lastActiveNanos = System.nanoTime();
        settle();
    }

    /** Stops taking requests if none is in flight; true if this call retired it. */
    boolean retireIfIdle(String reason) {
        if (!inFlight.compareAndSet(0, RETIRED)) return false;
        endReason.compareAndSet(null, reason);
        return true;
    }

    /** Stops taking requests now, whatever is in flight (the VM is gone or the node stops). */
    boolean retire(String reason) {
        int was = inFlight.getAndSet(RETIRED);
        endReason.compareAndSet(null, reason);
        return was != RETIRED;
    }

    /** Gives the memory back once, when the VMM has exited. */
    boolean releaseMemory() {
        return released.compareAndSet(false, true);
    }

    /**
     * Brings the VM's state in line with the in-flight count (BUSY when &gt; 0, IDLE when 0).
     * Every thread that changed the count calls this; each move is a CAS and the loop re-reads
     * both, so the last caller leaves the state consistent with the last count.
     */
    private void settle() {
        while (true) {
            int n = inFlight.get();
            VmState s = vm.state();
            if (n == RETIRED || !s.isServing()) return;
            VmState want = n > 0 ? VmState.BUSY : VmState.IDLE;
            if (s == want) return;
            vm.lifecycle().transition(s, want);
        }
    }

    /** A snapshot for /about/executions/list. */
    public ExecutionView view() {
        Instant started = vm.startedAt();
        return new ExecutionView(id, vm.id(), program.messageHash(), program.runtime().resolved(), vm.state(),
                vm.accelerator().id(), started, Duration.between(started, Instant.now()), boot, breakdown, served.get(),
                inFlight(), memoryMiB, vm.pid());
    }
}
