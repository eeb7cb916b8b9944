package dev.kiln.node.testing;

import dev.kiln.guest.GuestConnection;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmLifecycle;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** One guest agent process standing in for a VM; see {@link AgentVmLauncher}. */
public final class AgentVm implements Vm {
    private final String id;
    private final VmSpec spec;
    private final VmLifecycle lifecycle = new VmLifecycle();
    private final Instant startedAt = Instant.now();
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private volatile Process process;
    private volatile GuestConnection guest;
    private volatile Duration boot;

    AgentVm(String id, VmSpec spec) {
        this.id = id;
        this.spec = spec;
    }

    void attach(Process p) {
        this.process = p;
        p.onExit().thenAccept(done -> {
            if (lifecycle.state() == VmState.STOPPING) lifecycle.transition(VmState.STOPPING, VmState.STOPPED);
            else lifecycle.moveTo(VmState.FAILED);
            GuestConnection g = guest;
            if (g != null) g.close();
            exited.complete(done.exitValue());
        });
    }

    void connected(GuestConnection g, Duration took) {
        this.guest = g;
        this.boot = took;
    }

    public Process process() {
        return process;
    }

    @Override
    public String id() {
        return id;
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
        return guest;
    }

    @Override
    public Accelerator accelerator() {
        return Accelerator.TCG;
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public Duration bootDuration() {
        return boot;
    }

    @Override
    public Path consoleLog() {
        return spec.workDir().resolve("console.log");
    }

    @Override
    public String consoleTail(int lines) {
        try {
            List<String> all = Files.readAllLines(consoleLog());
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "<no console: " + e.getMessage() + ">";
        }
    }

    @Override
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public void stop(Duration grace) {
        VmState was = lifecycle.moveTo(VmState.STOPPING);
        Process p = process;
        if (p == null) return;
        if (was != null && guest != null && guest.isOpen()) {
            try {
                guest.halt(grace, grace.plusSeconds(1));
            } catch (RuntimeException e) {
                // the agent is gone or stuck: the process is ended below
            }
        }
        try {
            if (!p.waitFor(1, TimeUnit.SECONDS)) {
                p.destroy();
                if (!p.waitFor(1, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            exited.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // exited completes from the process's exit; a slow JVM reaper is not a failure to stop
        }
    }

    @Override
    public void kill() {
        lifecycle.moveTo(VmState.FAILED);
        Process p = process;
        if (p != null) p.destroyForcibly();
    }
}
