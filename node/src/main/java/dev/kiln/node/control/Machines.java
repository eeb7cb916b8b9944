package dev.kiln.node.control;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.error.NodeException;
import java.util.List;

/**
 * The machines of one {@link MachineKind} that this node keeps running: what the operator API
 * ({@code POST /control/allocations}, {@code /control/machine/<hash>/...}) and {@code kiln instance}
 * drive. Persistent programs implement it in the pool's terms, instances in
 * {@code dev.kiln.node.instance}; the control layer only converges and dispatches, so it never
 * holds a lock while a machine starts or stops.
 *
 * <p>Every method returns quickly: starting, stopping and rebooting happen in the background, and
 * {@link #list()} shows their progress. Errors a caller can act on are {@link NodeException}s
 * ({@code PROGRAM_NOT_FOUND} for an unknown hash, {@code UNSUPPORTED}/{@code INVALID_PROGRAM} for a
 * message this node will not run, {@code NOT_FOUND} for an operation on a machine it does not keep).
 */
public interface Machines {
    MachineKind kind();

    /** Every machine of this kind the node keeps (allocated), whatever its state. */
    List<MachineInfo> list();

    /** Makes sure the machine runs; idempotent: allocating a running machine changes nothing. */
    void allocate(ItemHash message) throws NodeException;

    /** Stops the machine and drops its allocation; its disks and volumes are kept. */
    void stop(ItemHash message) throws NodeException;

    /** Restarts the guest, keeping its disks; a stopped but allocated machine is started. */
    void reboot(ItemHash message) throws NodeException;

    /** Stops the machine, drops its allocation and deletes its disks and persistent volumes. */
    void erase(ItemHash message) throws NodeException;

    /** The most recent {@code maxBytes} of the machine's console (what the guest prints), oldest first. */
    String logs(ItemHash message, int maxBytes) throws NodeException;
}
