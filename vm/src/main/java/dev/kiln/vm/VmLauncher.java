package dev.kiln.vm;

/**
 * Boots microVMs. Implementations must never leave a VMM process behind (see docs/vm.md), except
 * the {@link #launchDetached detached} VMs that are meant to outlive their node.
 */
public interface VmLauncher extends AutoCloseable {

    /**
     * Boots a VM and returns it once the guest agent's hello has arrived (state READY).
     *
     * @throws VmBootException if the VMM cannot start, exits, or the hello does not come within
     *                         {@link VmSpec#bootTimeout()}; its message ends with the console tail.
     *                         Nothing is left running.
     */
    Vm launch(VmSpec spec) throws VmBootException, InterruptedException;

    /**
     * Boots a VM that may outlive this launcher's process (a persistent program): it is not tied
     * to the JVM, and its files are kept in {@link VmSpec#workDir()} until it ends. A launcher that
     * cannot do that boots an ordinary VM ({@link Vm#adoption()} then says so by being empty).
     */
    default Vm launchDetached(VmSpec spec) throws VmBootException, InterruptedException {
        return launch(spec);
    }

    /**
     * Takes over a detached VM that an earlier launcher (usually an earlier node process) started:
     * checks that the recorded process is alive and is that VM, reconnects to its monitor and its
     * guest agent (which keeps its program, configured and running), and returns it READY.
     *
     * @throws VmBootException if it cannot be adopted; {@link VmBootException.Reason#VMM_EXITED}
     *                         if it is gone. Either way nothing of it runs afterwards (a VM that was
     *                         alive but could not be reconnected has been killed), so the caller
     *                         may start a fresh one without ever running two.
     */
    default Vm adopt(VmAdoption adoption) throws VmBootException, InterruptedException {
        throw new VmBootException(VmBootException.Reason.HOST_UNSUPPORTED, "this launcher cannot adopt VM " + adoption.vmId());
    }

    /**
     * Ends a detached VM that nobody will adopt (no record names it any more): killed if it still
     * runs and is that VM, its files removed. Never touches a process that is not that VM.
     */
    default void discard(java.nio.file.Path workDir) {
    }

    /** The accelerator this launcher uses (probed once). */
    Accelerator accelerator();

    /** Stops every VM this launcher started and still runs. */
    @Override
    void close();
}
