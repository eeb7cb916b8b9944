package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.volume.VolumeException;
import dev.kiln.vm.Drive;
import dev.kiln.guest.GuestApiHandler;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.guestapi.GuestApiSocket;
import dev.kiln.node.guestapi.GuestApis;
import dev.kiln.vm.instance.InstanceDisk;
import dev.kiln.vm.instance.InstanceLauncher;
import dev.kiln.vm.instance.InstanceSpec;
import dev.kiln.vm.instance.InstanceVm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One instance: its directory ({@code disk.qcow2}, {@code seed.iso}, scratch volumes, console,
 * QEMU's pid file, {@link InstanceState}), its QEMU and the volumes that QEMU has
 * ({@link InstanceVolumes}: claimed while it runs, released when it ends). Every change runs on the instance's own queue, one at a
 * time, so callers return at once and two changes of one instance never interleave, while
 * instances never wait for each other. Readers see the volatile fields.
 */
final class InstanceMachine {
    private static final System.Logger LOG = System.getLogger(InstanceMachine.class.getName());
    private static final int PORT_ATTEMPTS = 3;

    private final ItemHash hash;
    private final Path dir;
    private final InstanceLauncher launcher;
    private final Path kernel;
    private final InstanceVolumes volumes;
    private final GuestApis apis;
    private final InstanceMemory memory;
    private final ExecutorService queue = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("instance-", 0).factory());

    private volatile ResolvedInstance resolved;
    private volatile InstanceVm vm;
    /** The volumes' drives of the running QEMU; empty when none runs. */
    private volatile List<Drive> drives = List.of();
    private volatile InstanceState record;
    private volatile String state = "starting";
    private volatile Instant since = Instant.now();
    private volatile String lastFailure;
    private volatile boolean adopted;
    private GuestApiSocket apiSocket; // only touched on the queue
    private long memoryHeld; // MiB of the node's budget this instance's QEMU holds; only touched on the queue

    InstanceMachine(ItemHash hash, Path dir, InstanceLauncher launcher, Path kernel, PersistentVolumes persistent,
                    GuestApis apis, InstanceMemory memory, InstanceState record) {
        this.hash = hash;
        this.dir = dir;
        this.launcher = launcher;
        this.kernel = kernel;
        this.volumes = new InstanceVolumes(persistent, dir, InstancePlan.vmName(hash));
        this.apis = apis;
        this.memory = memory;
        this.record = record;
    }

    /**
     * Claims the persistent volumes the record names, at once (a node opening): the instance's
     * QEMU may still run with them, and no program may take them before it is re-adopted.
     */
    void claimRecorded() {
        volumes.claim(record.kept());
    }

    /** The message, when known without an allocation (an erase after a node restart). */
    void known(ResolvedInstance r) {
        if (resolved == null) resolved = r;
    }

    ItemHash hash() {
        return hash;
    }

    Path dir() {
        return dir;
    }

    boolean allocated() {
        return record.allocated();
    }

    String state() {
        return state;
    }

    Instant since() {
        return since;
    }

    Optional<Integer> sshPort() {
        return record.sshPort() > 0 ? Optional.of(record.sshPort()) : Optional.empty();
    }

    /** The running QEMU, if any. */
    Optional<InstanceVm> vm() {
        InstanceVm v = vm;
        return v != null && v.running() ? Optional.of(v) : Optional.empty();
    }

    Map<String, String> detail() {
        Map<String, String> d = new LinkedHashMap<>();
        InstanceVm v = vm;
        if (v != null) d.put("pid", Long.toString(v.pid()));
        if (record.bootedAt() != null) d.put("booted_at", record.bootedAt().toString());
        d.put("adopted", Boolean.toString(adopted));
        d.put("disk", dir.resolve(InstancePlan.DISK).toString());
        if (resolved != null) d.put("parent", resolved.parent().resolved().value());
        if (lastFailure != null) d.put("last_failure", lastFailure);
        return d;
    }

    /** Allocates with {@code r} and makes sure it runs (re-adopting a QEMU that still runs). */
    void allocate(ResolvedInstance r) {
        submit(() -> {
            resolved = r;
            if (!record.allocated()) persist(record.withAllocated(true));
            if (vm().isPresent()) return;
            adoptOrBoot();
        });
    }

    /** Restarts the guest: its QEMU is stopped and started again on the same disk. */
    void reboot() {
        submit(() -> {
            halt("rebooting");
            boot();
        });
    }

    /** Stops the VM and drops the allocation; the disk and the record stay for a later allocation. */
    void stop() {
        submit(() -> {
            halt("stopping");
            persist(record.withAllocated(false));
            enter("stopped", null);
        });
    }

    /**
     * Stops the VM and deletes the instance's directory (its disk) and its persistent volumes; runs
     * {@code then} when done.
     */
    void erase(Runnable then) {
        queue.execute(() -> {
            try {
                halt("stopping");
                Set<InstanceState.Kept> kept = new LinkedHashSet<>(record.kept());
                if (resolved != null) kept.addAll(InstanceVolumes.kept(resolved));
                volumes.releaseKept(List.copyOf(kept)); // claimed at the node's start even if no QEMU ran since
                List<String> problems = volumes.delete(List.copyOf(kept));
                closeGuestApi();
                deleteTree(dir);
                enter("erased", problems.isEmpty() ? null : String.join("; ", problems));
            } finally {
                then.run();
                queue.shutdown();
            }
        });
    }

    /** The instance could not even be resolved (at a node's start): shown as failed, its volumes free. */
    void failed(String why) {
        volumes.releaseKept(record.kept());
        enter("failed", why);
    }

    /** Called by the watcher: the allocated VM's QEMU is gone (guest powered off, killed). */
    void checkAlive() {
        InstanceVm v = vm;
        if (v == null || !state.equals("running") || v.running()) return;
        queue.execute(() -> {
            if (vm == v && !v.running()) {
                vm = null;
                endVolumes();
                closeGuestApi();
                releaseMemory();
                enter("stopped", "QEMU exited (the guest powered off, or its process was killed);"
                        + " reboot starts it again");
            }
        });
    }

    /** Runs {@code change} on the queue; a failure shows in the listing instead of vanishing. */
    private void submit(Runnable change) {
        queue.execute(() -> {
            try {
                change.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "instance " + hash + ": " + e.getMessage());
                enter("failed", e.getMessage());
            }
        });
    }

    /** Stops taking changes; the VM keeps running (a node's shutdown leaves instances alone). */
    void detach() {
        queue.execute(this::closeGuestApi);
        queue.shutdown();
    }

    private void adoptOrBoot() {
        InstanceSpec spec = spec(record.sshPort() > 0 ? record.sshPort() : 1);
        Optional<InstanceVm> running = InstanceLauncher.adopt(spec);
        if (running.isPresent()) {
            openGuestApi(); // before the guest's next request: its forward connects by path
            if (memoryHeld == 0) memoryHeld = memory.count(memoryMib());
            vm = running.get();
            adopted = true;
            LOG.log(System.Logger.Level.INFO, "instance " + hash + ": re-adopted its running QEMU (pid " + vm.pid() + ")");
            String problem = null;
            try {
                drives = volumes.claim(resolved);
            } catch (VolumeException e) {
                // The QEMU keeps its drives open whatever this node thinks; say so rather than stop the guest.
                problem = "re-adopted, but its volumes could not be claimed: " + e.getMessage();
                LOG.log(System.Logger.Level.WARNING, "instance " + hash + ": " + problem);
            }
            enter("running", problem);
            return;
        }
        boot();
    }

    private void boot() {
        enter("starting", null);
        adopted = false;
        try {
            ResolvedInstance r = resolved;
            InstanceDisk.open(dir.resolve(InstancePlan.DISK), r.parent().file(), r.parentFormat(), r.content().rootfs().sizeMib());
            InstancePlan.seed(r).write(dir.resolve(InstancePlan.SEED));
            if (memoryHeld == 0) memoryHeld = memory.reserve("instance " + hash, memoryMib());
            // Recorded before the start: a node that dies right after it still knows what to claim.
            persist(record.withKept(InstanceVolumes.kept(r)));
            List<Drive> attached = volumes.attach(r);
            openGuestApi();
            IOException last = null;
            for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
                int port = attempt == 0 && record.sshPort() > 0 && free(record.sshPort()) ? record.sshPort() : freePort();
                try {
                    InstanceVm started = launcher.start(spec(port, attached));
                    vm = started;
                    drives = attached;
                    persist(record.withBoot(port, started.pid(), Instant.now()));
                    enter("running", null);
                    LOG.log(System.Logger.Level.INFO, "instance " + hash + " started (pid " + started.pid()
                            + ", SSH on 127.0.0.1:" + port + ")");
                    return;
                } catch (IOException e) {
                    last = e; // most often: another process took the port between the probe and QEMU's bind
                }
            }
            volumes.release(attached);
            throw last;
        } catch (IOException | VolumeException | NodeException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "instance " + hash + " did not start: " + e.getMessage());
            closeGuestApi();
            releaseMemory();
            enter("failed", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeGuestApi();
            releaseMemory();
            enter("failed", "interrupted while starting");
        }
    }

    private void halt(String transient_) {
        InstanceVm v = vm;
        if (v == null && resolved != null) v = InstanceLauncher.adopt(spec(Math.max(1, record.sshPort()))).orElse(null);
        if (v == null) return;
        enter(transient_, null);
        try {
            v.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        vm = null;
        endVolumes();
        closeGuestApi();
        releaseMemory();
    }

    private long memoryMib() {
        return resolved.content().resourcesOrDefault().memoryMib();
    }

    private void releaseMemory() {
        memory.release(memoryHeld);
        memoryHeld = 0;
    }

    /** The QEMU has ended: its scratch images go and its persistent volumes are free (also when it was never claimed here). */
    private void endVolumes() {
        volumes.release(drives);
        volumes.releaseKept(record.kept());
        drives = List.of();
    }

    /**
     * Serves the instance's guest API while its QEMU runs, if it asked for one. A socket that
     * cannot be opened fails the start: the message asked for the API, so the VM is not started
     * without it.
     */
    private void openGuestApi() {
        if (apiSocket != null || resolved == null) return;
        Optional<GuestApiHandler> handler = apis.handlerFor(hash, resolved.content().address(), InstancePlan.guestApi(resolved),
                InstancePlan.hostname(resolved));
        if (handler.isEmpty()) return;
        try {
            apiSocket = GuestApiSocket.open(InstancePlan.guestApiSocket(dir), handler.get());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void closeGuestApi() {
        GuestApiSocket s = apiSocket;
        apiSocket = null;
        if (s != null) s.close();
    }

    private InstanceSpec spec(int port) {
        return spec(port, drives);
    }

    private InstanceSpec spec(int port, List<Drive> volumeDrives) {
        return InstancePlan.spec(resolved, kernel, dir, port, Runtime.getRuntime().availableProcessors(), volumeDrives);
    }

    private void enter(String newState, String failure) {
        state = newState;
        since = Instant.now();
        if (failure != null) lastFailure = failure;
    }

    private void persist(InstanceState s) {
        try {
            s.write(dir);
            record = s;
        } catch (IOException e) {
            throw new UncheckedIOException("instance " + hash + ": its record cannot be written in " + dir, e);
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) return;
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not remove " + root + ": " + e.getMessage());
        }
    }
}
