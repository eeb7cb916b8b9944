package dev.kiln.node.control;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The operator's side of the node: the allocation it was sent, and the {@link Machines} of each
 * kind that run it. {@link #apply} converges — for each kind, what is running and no longer listed
 * is stopped, what is listed is allocated (idempotent: a running machine is left alone) — and
 * records the allocation first, so a node restarted at any point converges to it again.
 *
 * <p>Changes to the allocation are serialized by one lock: two operators' allocations must not
 * interleave their stops and starts. It is held only by operator calls, never by a program's
 * request, and only while {@link Machines} methods run, which return at once (they start and stop
 * in the background).
 */
public final class Allocations {
    private static final System.Logger LOG = System.getLogger(Allocations.class.getName());

    private final Map<MachineKind, Machines> machines;
    private final AllocationFile file;
    private final Function<ItemHash, Optional<MachineKind>> kinds;
    private final ReentrantLock changes = new ReentrantLock();
    private volatile Allocation current = Allocation.EMPTY;

    /**
     * @param kinds the kind of a message this node has locally (PROGRAM or INSTANCE), for operations
     *              on a machine that is in no allocation
     */
    public Allocations(Map<MachineKind, Machines> machines, AllocationFile file, Function<ItemHash, Optional<MachineKind>> kinds) {
        Map<MachineKind, Machines> m = new EnumMap<>(MachineKind.class);
        m.putAll(machines);
        m.forEach((k, v) -> {
            if (v.kind() != k) throw new IllegalArgumentException(v + " runs " + v.kind() + ", registered for " + k);
        });
        this.machines = Map.copyOf(m);
        this.file = file;
        this.kinds = kinds;
    }

    /** The kinds this node runs. */
    public Set<MachineKind> kinds() {
        return machines.keySet();
    }

    /** The allocation last sent (or restored at start). */
    public Allocation current() {
        return current;
    }

    /** Every machine each {@link Machines} keeps, whatever its state. */
    public List<MachineInfo> list() {
        List<MachineInfo> all = new ArrayList<>();
        for (MachineKind k : MachineKind.values()) {
            Machines m = machines.get(k);
            if (m != null) all.addAll(m.list());
        }
        return all;
    }

    /**
     * Makes {@code wanted} the node's allocation and converges to it. Refused as a whole, with
     * nothing changed, when it lists a kind this node does not run.
     */
    public AllocationOutcome apply(Allocation wanted) throws NodeException {
        for (MachineKind k : MachineKind.values()) {
            if (!wanted.of(k).isEmpty() && !machines.containsKey(k)) {
                throw new NodeException(ErrorCode.UNSUPPORTED, k.allocationField() + " lists " + wanted.of(k).size()
                        + " machine(s), but this node does not run " + k.allocationField() + " yet; nothing was changed",
                        List.of(new NodeException.Detail(k.allocationField(), "unsupported")), null);
            }
        }
        // A PROGRAM listed as an instance (or the reverse) is a mistake in the body, not a machine
        // that failed to start: refusing it whole keeps the machines the body would have stopped.
        List<NodeException.Detail> misplaced = new java.util.ArrayList<>();
        for (MachineKind k : MachineKind.values()) {
            for (ItemHash h : wanted.of(k)) {
                kinds.apply(h).filter(actual -> actual != k).ifPresent(actual -> misplaced.add(new NodeException.Detail(
                        k.allocationField(), h + " is a message for " + actual.allocationField())));
            }
        }
        if (!misplaced.isEmpty()) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, misplaced.getFirst().reason() + ", not "
                    + misplaced.getFirst().path() + "; nothing was changed", misplaced, null);
        }
        changes.lock();
        try {
            record(wanted);
            return converge(wanted);
        } finally {
            changes.unlock();
        }
    }

    /** Adds one machine to the allocation (aleph's {@code /control/allocation/notify}) and starts it. */
    public AllocationOutcome add(ItemHash h) throws NodeException {
        changes.lock();
        try {
            // Read under the lock: two notifies at once must both end up in the allocation.
            MachineKind k = current.kindOf(h).or(() -> kinds.apply(h)).orElse(MachineKind.PERSISTENT_PROGRAM);
            return apply(current.with(k, h));
        } finally {
            changes.unlock();
        }
    }

    /** At node start: converges to the recorded allocation; a node never sent one runs none. */
    public AllocationOutcome restore() throws IOException {
        Allocation recorded = file.load().orElse(Allocation.EMPTY);
        changes.lock();
        try {
            current = recorded;
            for (MachineKind k : MachineKind.values()) {
                if (!recorded.of(k).isEmpty() && !machines.containsKey(k)) {
                    LOG.log(System.Logger.Level.WARNING, "the recorded allocation lists " + recorded.of(k).size() + " "
                            + k.allocationField() + ", which this node does not run; they stay recorded but are not started");
                }
            }
            return converge(recorded);
        } finally {
            changes.unlock();
        }
    }

    /** Stops a machine and takes it out of the allocation (its disks stay). */
    public void stop(ItemHash h) throws NodeException {
        deallocating(h, Machines::stop);
    }

    /** Stops a machine, takes it out of the allocation and deletes its disks and volumes. */
    public void erase(ItemHash h) throws NodeException {
        deallocating(h, Machines::erase);
    }

    public void reboot(ItemHash h) throws NodeException {
        owner(h).reboot(h);
    }

    public String logs(ItemHash h, int maxBytes) throws NodeException {
        return owner(h).logs(h, maxBytes);
    }

    private interface Operation {
        void run(Machines m, ItemHash h) throws NodeException;
    }

    private void deallocating(ItemHash h, Operation op) throws NodeException {
        changes.lock();
        try {
            boolean allocated = current.all().contains(h);
            Machines m = owner(h);
            if (allocated) record(current.without(h));
            try {
                op.run(m, h);
            } catch (NodeException e) {
                // Allocated but not running (its start was refused): taking it out of the allocation was the stop.
                if (!(allocated && e.code() == ErrorCode.NOT_FOUND)) throw e;
            }
        } finally {
            changes.unlock();
        }
    }

    /** The Machines that keeps {@code h}, or would (by its allocation or its message's kind); 404 if none. */
    private Machines owner(ItemHash h) throws NodeException {
        for (Machines m : machines.values()) {
            if (m.list().stream().anyMatch(i -> i.message().equals(h))) return m;
        }
        Optional<MachineKind> k = current.kindOf(h).or(() -> kinds.apply(h));
        if (k.isEmpty()) {
            throw new NodeException(ErrorCode.NOT_FOUND, "no machine " + h + " on this node: it is in no allocation and"
                    + " no PROGRAM or INSTANCE message with that hash is here");
        }
        Machines m = machines.get(k.get());
        if (m == null) {
            throw new NodeException(ErrorCode.UNSUPPORTED, h + " is an " + k.get().allocationField()
                    + " machine, which this node does not run yet");
        }
        return m;
    }

    private void record(Allocation a) throws NodeException {
        try {
            file.save(a);
        } catch (IOException e) {
            throw new NodeException(ErrorCode.INTERNAL, "the allocation could not be recorded in " + file.path()
                    + " (" + e.getMessage() + "); nothing was changed", e);
        }
        current = a;
    }

    private AllocationOutcome converge(Allocation wanted) {
        List<ItemHash> started = new ArrayList<>();
        List<ItemHash> stopped = new ArrayList<>();
        Map<ItemHash, String> errors = new LinkedHashMap<>();
        for (MachineKind k : MachineKind.values()) {
            Machines m = machines.get(k);
            if (m == null) continue;
            Set<ItemHash> listed = wanted.of(k);
            Set<ItemHash> kept = m.list().stream().map(MachineInfo::message).collect(Collectors.toSet());
            for (ItemHash h : kept) {
                if (listed.contains(h)) continue;
                try {
                    m.stop(h);
                    stopped.add(h);
                } catch (NodeException e) {
                    errors.put(h, e.code().wire() + ": " + e.getMessage());
                }
            }
            for (ItemHash h : listed) {
                try {
                    m.allocate(h);
                    if (!kept.contains(h)) started.add(h);
                } catch (NodeException e) {
                    errors.put(h, e.code().wire() + ": " + e.getMessage());
                }
            }
        }
        if (!errors.isEmpty()) LOG.log(System.Logger.Level.WARNING, "allocation: " + errors.size() + " machine(s) failed: " + errors);
        return new AllocationOutcome(wanted.all(), started, stopped, errors);
    }
}
