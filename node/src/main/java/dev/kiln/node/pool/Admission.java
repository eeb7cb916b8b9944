package dev.kiln.node.pool;

import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.program.ResolvedProgram;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether the host can carry one more VM. CPU: at most {@code maxConcurrentBoots} starts are
 * past this point at once (launch + configure keep a core busy each under TCG; more at once made
 * every boot miss its timeout); the others wait in a fair queue for a bounded time. Memory: its
 * guest RAM plus the VMM's overhead must fit the budget (a CAS counter), making room by retiring
 * the least recently used idle executions when it does not. A start takes its boot slot before
 * its memory, so a queued start holds no memory and evicts nothing.
 */
final class Admission {
    private static final System.Logger LOG = System.getLogger(Admission.class.getName());

    private final MemoryBudget budget;
    private final Collection<Execution> live;
    private final Duration stopWait;
    private final int maxBoots;
    private final Duration queueWait;
    private final Semaphore boots;
    private final AtomicInteger queued = new AtomicInteger();

    /** A start's hold on one of the boot slots; closed when it serves or fails. */
    interface BootSlot extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * @param live     the pool's executions that are not GONE (read, never changed here)
     * @param stopWait how long an evicted VM gets to exit before it is killed
     */
    Admission(MemoryBudget budget, Collection<Execution> live, Duration stopWait, int maxBoots, Duration queueWait) {
        this.budget = budget;
        this.live = live;
        this.stopWait = stopWait;
        this.maxBoots = maxBoots;
        this.queueWait = queueWait;
        this.boots = new Semaphore(maxBoots, true);
    }

    /**
     * Waits, first come first served, until fewer than {@code maxConcurrentBoots} starts run.
     * The VM's boot timeout starts only after this: a queued boot does not eat its own timeout.
     */
    BootSlot awaitBootSlot(ResolvedProgram program) throws NodeException, InterruptedException {
        queued.incrementAndGet();
        boolean got;
        try {
            // tryAcquire with a timeout honours the queue's order; the untimed one would barge.
            got = boots.tryAcquire(queueWait.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            queued.decrementAndGet();
        }
        if (!got) {
            throw new NodeException(ErrorCode.NO_CAPACITY, "program " + program.messageHash() + " waited "
                    + queueWait.toSeconds() + " s for a boot slot: the node boots at most " + maxBoots
                    + " VM(s) at once and " + queued.get() + " more boot(s) are queued; retry shortly");
        }
        AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) boots.release();
        };
    }

    /** Refuses at once a program that could never fit, before it waits for anything. */
    void checkFits(ResolvedProgram program, long cost) throws NodeException {
        checkFits("program " + program.messageHash(), cost);
    }

    private void checkFits(String who, long cost) throws NodeException {
        if (cost > budget.totalMiB()) {
            throw new NodeException(ErrorCode.NO_CAPACITY, who + " needs " + cost
                    + " MiB (resources.memory + VMM overhead) but the node's whole memory budget is "
                    + budget.totalMiB() + " MiB");
        }
    }

    /** Reserves {@code cost} MiB, evicting idle executions (oldest activity first) if needed. */
    void reserve(ResolvedProgram program, long cost) throws NodeException, InterruptedException {
        reserve("program " + program.messageHash(), cost);
    }

    /** As {@link #reserve(ResolvedProgram, long)} for any VM of the node ({@code who} names it in errors). */
    void reserve(String who, long cost) throws NodeException, InterruptedException {
        if (budget.tryReserve(cost)) return;
        checkFits(who, cost);
        List<Execution> idle = new ArrayList<>();
        for (Execution e : live) {
            // A persistent program is never evicted: it runs from allocation to deallocation.
            if (e.phase() == Phase.SERVING && e.inFlight() == 0 && e.keepWarm().evictable()) idle.add(e);
        }
        idle.sort(Comparator.comparingLong(Execution::lastActiveNanos));
        for (Execution victim : idle) {
            if (!victim.retireIfIdle(EndReason.EVICTED, null)) continue;
            LOG.log(System.Logger.Level.INFO, "stopping idle " + victim.id() + " to make room for " + who);
            awaitGone(victim);
            if (budget.tryReserve(cost)) return;
        }
        throw new NodeException(ErrorCode.NO_CAPACITY, "no room for another VM: " + budget.reservedMiB() + " of "
                + budget.totalMiB() + " MiB are reserved by " + live.size() + " busy or persistent VM(s) and instances, and "
                + who + " needs " + cost + " MiB; try again shortly, or give the node a larger"
                + " --memory-budget");
    }

    void release(long mib) {
        if (mib > 0) budget.release(mib);
    }

    /** The victim's VM is being halted (the pool did that on its retirement); its memory returns when it is gone. */
    private void awaitGone(Execution victim) throws InterruptedException {
        try {
            victim.gone().get(stopWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "VM " + victim.id() + " did not exit after stop; killing it");
            if (victim.vm() != null) victim.vm().kill();
        }
    }
}
