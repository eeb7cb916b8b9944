package dev.kiln.node.pool;

import dev.kiln.guest.GuestConnection;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmLifecycle;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A VM without a VMM, for the state machine's unit tests: a real {@link VmLifecycle}, READY when
 * made; stop and kill only move the lifecycle and complete {@link #exited()}.
 */
final class StillVm implements Vm {
    private final VmLifecycle lifecycle = new VmLifecycle();
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private final VmSpec spec;

    StillVm(Path dir) {
        spec = new VmSpec("still", dir.resolve("vmlinux"), dir.resolve("rootfs"), null, List.of(), 64, 1, List.of(),
                dir.resolve("work"), Duration.ofSeconds(1));
        lifecycle.transition(VmState.PREPARING, VmState.BOOTING);
        lifecycle.transition(VmState.BOOTING, VmState.READY);
    }

    @Override
    public String id() {
        return "still";
    }

    @Override
    public VmSpec spec() {
        return spec;
    }

    @Override
    public VmLifecycle lifecycle() {
        return lifecycle;
    }

    @Override
    public GuestConnection guest() {
        return null;
    }

    @Override
    public Accelerator accelerator() {
        return Accelerator.TCG;
    }

    @Override
    public Instant startedAt() {
        return Instant.EPOCH;
    }

    @Override
    public Duration bootDuration() {
        return Duration.ZERO;
    }

    @Override
    public Path consoleLog() {
        return spec.workDir().resolve("console.log");
    }

    @Override
    public String consoleTail(int lines) {
        return "";
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public void stop(Duration grace) {
        if (lifecycle.moveTo(VmState.STOPPING) != null) lifecycle.transition(VmState.STOPPING, VmState.STOPPED);
        exited.complete(0);
    }

    @Override
    public void kill() {
        lifecycle.moveTo(VmState.FAILED);
        exited.complete(137);
    }
}
