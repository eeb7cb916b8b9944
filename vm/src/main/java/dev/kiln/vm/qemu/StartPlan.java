package dev.kiln.vm.qemu;

import dev.kiln.vm.VmStart;

import java.util.List;
import java.util.Objects;

/**
 * How {@link QemuVm} starts: a plain boot, a boot that can be snapshotted (RAM in a shared file), or
 * a restore (RAM mapped from a snapshot, device state loaded before the guest runs).
 *
 * @param start    what the VM reports
 * @param ram      where guest RAM lives; null: QEMU's anonymous memory
 * @param shape    the command line's {@link CommandShape}, recorded in the snapshots this VM saves
 * @param incoming a restore's loading step, run after QEMU started and before the guest channel; null for boots
 */
record StartPlan(VmStart start, GuestRam ram, List<String> shape, SnapshotIncoming incoming) {
    StartPlan {
        Objects.requireNonNull(start, "start");
        shape = List.copyOf(shape);
    }

    boolean snapshottable() {
        return ram != null && ram.shared();
    }
}
