package dev.kiln.node.testing;

import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestInit;
import dev.kiln.guest.GuestLog;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmSpec;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real fake of the VM driver: each "VM" is the real guest agent (init1.py) run as a host process
 * with the host's Python, connected over a Unix socket instead of a virtio port. Pool, routing and
 * error mapping are tested against it in milliseconds; QEMU tests cover the rest.
 *
 * <p>{@code bootDelay} stands in for a kernel boot (the agent starts that much later), so tests of
 * single flight and parallel boots can see overlap.
 */
public final class AgentVmLauncher implements VmLauncher {
    private final Duration bootDelay;
    private final AtomicInteger launches = new AtomicInteger();
    private final AtomicInteger launching = new AtomicInteger();
    private final AtomicInteger mostLaunching = new AtomicInteger();
    private final AtomicInteger ids = new AtomicInteger();
    private final List<AgentVm> vms = new CopyOnWriteArrayList<>();
    private final List<GuestLog> logs = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    public AgentVmLauncher(Duration bootDelay) {
        this.bootDelay = bootDelay;
    }

    public int launches() {
        return launches.get();
    }

    /** The most launches that were in progress at the same time. */
    public int mostConcurrentLaunches() {
        return mostLaunching.get();
    }

    public List<AgentVm> vms() {
        return List.copyOf(vms);
    }

    public List<GuestLog> logs() {
        return List.copyOf(logs);
    }

    /** Agent processes still running. */
    public List<AgentVm> alive() {
        return vms.stream().filter(v -> v.process().isAlive()).toList();
    }

    @Override
    public Vm launch(VmSpec spec) throws VmBootException, InterruptedException {
        if (closed) throw new VmBootException(VmBootException.Reason.LAUNCHER_CLOSED, "the launcher is closed");
        launches.incrementAndGet();
        mostLaunching.accumulateAndGet(launching.incrementAndGet(), Math::max);
        try {
            return boot(spec);
        } finally {
            launching.decrementAndGet();
        }
    }

    private Vm boot(VmSpec spec) throws VmBootException, InterruptedException {
        String id = "agent-" + ids.incrementAndGet();
        AgentVm vm = new AgentVm(id, spec);
        vm.lifecycle().transition(dev.kiln.vm.VmState.PREPARING, dev.kiln.vm.VmState.BOOTING);
        long start = System.nanoTime();
        try {
            Path dir = Files.createDirectories(spec.workDir());
            Path init1 = dir.resolve("init1.py");
            Files.write(init1, GuestInit.init1());
            Path root = Files.createDirectories(dir.resolve("root"));
            Path socket = dir.resolve("agent.sock");
            Files.deleteIfExists(socket);
            Thread.sleep(bootDelay);
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(socket));
                ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", "-u", init1.toString(),
                        "--channel", "unix:" + socket, "--root", root.toString());
                pb.environment().put("KILN_RUNTIME_NAME", "host-python");
                pb.redirectErrorStream(true).redirectOutput(vm.consoleLog().toFile());
                Process process = pb.start();
                vm.attach(process);
                vms.add(vm);
                CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                    try {
                        return server.accept();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                SocketChannel channel;
                try {
                    channel = accepted.get(spec.bootTimeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    vm.kill();
                    throw new VmBootException(VmBootException.Reason.TIMEOUT, "the agent did not connect within " + spec.bootTimeout()
                            + "; console:\n" + vm.consoleTail(20), e);
                }
                GuestConnection.Options options = GuestConnection.Options.defaults()
                        .withHelloTimeout(spec.bootTimeout()).withLogSink(logs::add);
                try {
                    vm.connected(GuestConnection.open(channel, options), Duration.ofNanos(System.nanoTime() - start));
                } catch (RuntimeException e) {
                    vm.kill();
                    throw new VmBootException(VmBootException.Reason.PROTOCOL, "the agent's handshake failed: " + e.getMessage() + "; console:\n"
                            + vm.consoleTail(20), e);
                }
            }
        } catch (IOException e) {
            vm.kill();
            throw new VmBootException(VmBootException.Reason.VMM_START_FAILED, "cannot start the agent: " + e.getMessage(), e);
        }
        vm.lifecycle().transition(dev.kiln.vm.VmState.BOOTING, dev.kiln.vm.VmState.READY);
        return vm;
    }

    @Override
    public Accelerator accelerator() {
        return Accelerator.TCG;
    }

    @Override
    public void close() {
        closed = true;
        for (AgentVm vm : vms) vm.kill();
        for (AgentVm vm : vms) {
            try {
                vm.exited().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // killed forcibly above; nothing more to do
            }
        }
    }
}
