package dev.kiln.node.pool;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where an {@link Execution} is in its life, as the node sees it. The VM's own state
 * ({@link dev.kiln.vm.VmState}) stays the truth about the VM; the phase is the truth about
 * whether the node sends the VM requests.
 *
 * <pre>
 * STARTING ──▶ SERVING ──▶ RETIRED ──▶ GONE
 *     └────────────────────────▲
 * </pre>
 *
 * STARTING: booting (or, later, restoring a snapshot: the same phase with another
 * {@link StartKind}); SERVING: takes requests, its in-flight count drives the VM's BUSY / IDLE;
 * RETIRED: takes no new request, the {@link Ending} is recorded, its VM is being stopped;
 * GONE: the VMM has exited, the memory is released and the record closed.
 */
public enum Phase {
    STARTING, SERVING, RETIRED, GONE;

    /** The phases this one may move to; SERVING → SERVING and RETIRED → RETIRED change the in-flight count. */
    public Set<Phase> next() {
        return switch (this) {
            case STARTING -> EnumSet.of(SERVING, RETIRED);
            case SERVING -> EnumSet.of(SERVING, RETIRED);
            case RETIRED -> EnumSet.of(RETIRED, GONE);
            case GONE -> EnumSet.noneOf(Phase.class);
        };
    }
}
