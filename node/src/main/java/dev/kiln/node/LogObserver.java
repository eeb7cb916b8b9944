package dev.kiln.node;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.pool.VmObserver;
import dev.kiln.vm.Vm;

/** Gives each VM the pool launches a log; a failure here is logged, never a failed boot. */
final class LogObserver implements VmObserver {
    private static final System.Logger LOG = System.getLogger(LogObserver.class.getName());
    private final LogStore logs;

    LogObserver(LogStore logs) {
        this.logs = logs;
    }

    @Override
    public void launched(String executionId, ItemHash program, Vm vm) {
        try {
            logs.attach(executionId, program, vm);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot follow the console of " + executionId + "; its log stays empty", e);
        }
    }

    @Override
    public void bootFailed(String executionId, ItemHash program, String message) {
        try {
            logs.bootFailed(executionId, program, message == null ? "the VM did not boot" : message);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot record the failed boot of " + executionId, e);
        }
    }
}
