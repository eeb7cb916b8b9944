package dev.kiln.node.pool;

import java.util.Locale;

/**
 * Why an execution stopped taking requests: one variant per cause. It decides how the VM is
 * ended ({@link #graceful()}: halted with the stop grace, or killed), is the {@code ended_by}
 * column of the execution's record and the {@code reason} label of
 * {@code kiln_node_executions_ended_total}. The free text beside it ({@link Ending#detail()})
 * is for people.
 */
public enum EndReason {
    /** No request for the idle timeout (keep-warm expired). */
    IDLE(true, "idle"),
    /** Stopped while idle to make room in the memory budget for another program. */
    EVICTED(true, "stopped to make room for another program"),
    /** Stopped on request (CLI, benchmark) or by the VM's driver. */
    STOPPED_BY_OPERATOR(true, "stopped by the operator"),
    /**
     * A reference the program follows with {@code use_latest} (runtime, volume, code) was amended:
     * the VM drains (requests in flight finish) and stops, so the next request runs the new version.
     */
    AMENDED(true, "a reference it follows was amended"),
    /** The node is shutting down. */
    SHUTDOWN(true, "node shutdown"),
    /**
     * The node is shutting down and this persistent program's VM was left running for the next
     * node to adopt (docs/node.md, "Restarts"): nothing is stopped.
     */
    LEFT_RUNNING(true, "left running for the next node"),
    /** The start failed (boot, configure); nothing of it serves. */
    START_FAILED(false, "the start failed"),
    /** The VMM exited, or the VM's state went to FAILED, without being asked to. */
    VM_DIED(false, "the VM died"),
    /** The guest channel closed or broke the protocol: the agent cannot be trusted to answer. */
    GUEST_LOST(false, "guest lost"),
    /**
     * A request timed out and the program answered no request at all meanwhile (a handler that
     * blocks the event loop, a CPU loop): the VM is replaced rather than left to time out every
     * route until its idle stop.
     */
    WEDGED(false, "the program stopped answering");

    private final boolean graceful;
    private final String text;

    EndReason(boolean graceful, String text) {
        this.graceful = graceful;
        this.text = text;
    }

    /** True if the VM is halted gracefully (open requests finish, the program's shutdown runs); false: killed. */
    public boolean graceful() {
        return graceful;
    }

    /** What the record says when no detail is given. */
    public String text() {
        return text;
    }

    /** The metric label and record value, e.g. {@code vm_died}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
