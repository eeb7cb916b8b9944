package dev.kiln.vm;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * The one authoritative state of one VM. Lock-free: a move is a compare-and-set, so two threads
 * racing to move the same VM cannot both win, and nothing waits on a lock shared with other VMs.
 */
public final class VmLifecycle {

    private record Current(VmState state, Instant since) {}

    private final AtomicReference<Current> current = new AtomicReference<>(new Current(VmState.PREPARING, Instant.now()));
    private final List<BiConsumer<VmState, VmState>> listeners = new CopyOnWriteArrayList<>();

    public VmState state() {
        return current.get().state();
    }

    /** When the VM entered its current state. */
    public Instant since() {
        return current.get().since();
    }

    /**
     * Moves from {@code from} to {@code to} if the VM is in {@code from}. Returns false, changing
     * nothing, if it is not (another thread moved it first).
     *
     * @throws IllegalStateException if {@code from → to} is not an edge of {@link VmState}
     */
    public boolean transition(VmState from, VmState to) {
        if (!from.next().contains(to)) throw new IllegalStateException("a VM cannot go from " + from + " to " + to);
        Current was = current.get();
        if (was.state() != from) return false;
        if (!current.compareAndSet(was, new Current(to, Instant.now()))) return false;
        for (BiConsumer<VmState, VmState> l : listeners) l.accept(from, to);
        return true;
    }

    /**
     * Moves to {@code to} from whatever the state is now, if that is allowed; returns the state it
     * left, or null if the move is not allowed from the current state (e.g. already terminal).
     */
    public VmState moveTo(VmState to) {
        while (true) {
            Current was = current.get();
            if (!was.state().next().contains(to)) return null;
            if (current.compareAndSet(was, new Current(to, Instant.now()))) {
                for (BiConsumer<VmState, VmState> l : listeners) l.accept(was.state(), to);
                return was.state();
            }
        }
    }

    /** Told {@code (from, to)} after every move, on the thread that made it; keep it cheap. */
    public void onTransition(BiConsumer<VmState, VmState> listener) {
        listeners.add(listener);
    }
}
