package dev.kiln.vm;

/** Boots microVMs. Implementations must never leave a VMM process behind (see docs/vm.md). */
public interface VmLauncher extends AutoCloseable {

    /**
     * Boots a VM and returns it once the guest agent's hello has arrived (state READY).
     *
     * @throws VmBootException if the VMM cannot start, exits, or the hello does not come within
     *                         {@link VmSpec#bootTimeout()}; its message ends with the console tail.
     *                         Nothing is left running.
     */
    Vm launch(VmSpec spec) throws VmBootException, InterruptedException;

    /** The accelerator this launcher uses (probed once). */
    Accelerator accelerator();

    /** Stops every VM this launcher started and still runs. */
    @Override
    void close();
}
