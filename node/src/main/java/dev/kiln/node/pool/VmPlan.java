package dev.kiln.node.pool;

import dev.kiln.guest.ProgramConfig;
import dev.kiln.vm.VmSpec;

/** How to run one program: the VM to boot and the configuration its guest agent receives. */
public record VmPlan(VmSpec spec, ProgramConfig config) {
}
