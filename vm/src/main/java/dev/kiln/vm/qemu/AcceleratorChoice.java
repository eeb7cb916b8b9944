package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;

import java.util.Objects;

/**
 * The accelerator VMs use here and why: forced by {@code KILN_ACCEL}, or the outcome of the KVM
 * probe. For the node's logs and {@code /about}.
 */
public record AcceleratorChoice(Accelerator accelerator, String reason) {
    public AcceleratorChoice {
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
        return accelerator.id() + " (" + reason + ")";
    }
}
