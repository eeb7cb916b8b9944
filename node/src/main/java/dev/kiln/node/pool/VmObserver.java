package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.vm.Vm;

/** Told of each VM the pool launches (the node's logs follow its console); must not block. */
public interface VmObserver {
    VmObserver NONE = new VmObserver() {
        @Override
        public void launched(String executionId, ItemHash program, Vm vm) {
        }

        @Override
        public void bootFailed(String executionId, ItemHash program, String message) {
        }
    };

    /** The VM is up (the agent said hello); its program is not configured yet. */
    void launched(String executionId, ItemHash program, Vm vm);

    /** The VM did not boot; {@code message} ends with the console's tail. */
    void bootFailed(String executionId, ItemHash program, String message);
}
