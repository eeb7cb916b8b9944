package dev.kiln.node.pool;

/**
 * One request's hold on an execution: taken by {@link ExecutionPool#acquire}, closed when the
 * response is complete. While a lease is open the VM is BUSY and cannot be stopped for idleness.
 */
public final class Lease implements AutoCloseable {
    private final ExecutionPool pool;
    private final Execution execution;
    private final boolean coldStart;
    private boolean closed;

    Lease(ExecutionPool pool, Execution execution, boolean coldStart) {
        this.pool = pool;
        this.execution = execution;
        this.coldStart = coldStart;
    }

    public Execution execution() {
        return execution;
    }

    /** True if this request waited for the VM to boot (it led the boot or joined it). */
    public boolean coldStart() {
        return coldStart;
    }

    /**
     * The guest stopped answering during this request: the execution is retired and its VM
     * killed, so the next request boots a fresh one.
     */
    public void vmLost(String why) {
        pool.lost(execution, why);
    }

    /** The program sent this request's response head. */
    public void answered() {
        execution.answered();
    }

    /**
     * This request, sent at {@code sentAtNanos}, got no response head within its timeout. If an
     * earlier request timed out too and the program answered nothing since, it is wedged: the
     * execution is retired and its VM killed, and true is returned.
     */
    public boolean timedOut(long sentAtNanos) {
        return pool.timedOut(execution, sentAtNanos);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        execution.exit();
    }
}
