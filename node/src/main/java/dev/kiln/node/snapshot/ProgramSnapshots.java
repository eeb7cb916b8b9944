package dev.kiln.node.snapshot;

import dev.kiln.guest.ProgramConfig;
import dev.kiln.guest.RestoreNotice;
import dev.kiln.guest.Restored;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.qemu.QemuLauncher;
import dev.kiln.vm.qemu.QemuVm;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotKey;
import dev.kiln.vm.snapshot.SnapshotStore;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The node's snapshots of programs (docs/snapshots.md, "The node"): which VMs to launch
 * snapshottable, the save after a program's first boot (in the background, one per key at a time),
 * and the restore of a later cold start, which falls back to a boot on any problem — a snapshot
 * never fails a request. Thread-safe; no lock is held across a save or a restore.
 */
public final class ProgramSnapshots {
    private static final System.Logger LOG = System.getLogger(ProgramSnapshots.class.getName());
    /** How long a restored copy's agent may take to refresh itself before the copy is dropped. */
    static final Duration REFRESH_TIMEOUT = Duration.ofSeconds(5);
    /** How long a save waits for the VM's first request to finish before saving anyway, between requests. */
    static final Duration QUIET_WAIT = Duration.ofSeconds(10);
    /** How long a node's close waits for an interrupted save to remove what it staged. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    private final SnapshotSettings settings;
    private final SnapshotStore store;
    private final QemuLauncher qemu;
    private final ConcurrentHashMap<SnapshotKey, Thread> saving = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private final ConcurrentHashMap<SnapshotKey, AtomicLong> generations = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    private ProgramSnapshots(SnapshotSettings settings, SnapshotStore store, QemuLauncher qemu) {
        this.settings = settings;
        this.store = store;
        this.qemu = qemu;
    }

    /** Never snapshots: every cold start boots. */
    public static ProgramSnapshots disabled() {
        return new ProgramSnapshots(SnapshotSettings.off(), null, null);
    }

    /**
     * Snapshots in {@code root} with {@code settings}; disabled if they are off or the launcher
     * cannot snapshot (only QEMU can).
     */
    public static ProgramSnapshots open(Path root, SnapshotSettings settings, VmLauncher launcher) throws IOException {
        if (!settings.enabled() || !(launcher instanceof QemuLauncher q)) return disabled();
        return new ProgramSnapshots(settings, new SnapshotStore(root, settings.capBytes()), q);
    }

    public SnapshotSettings settings() {
        return store == null ? SnapshotSettings.off() : settings;
    }

    /** What this node may do with snapshots for one planned VM: its key, or why not. */
    public sealed interface Plan permits Plan.Keyed, Plan.Refused {
        record Keyed(SnapshotKey key) implements Plan {
        }

        record Refused(String reason) implements Plan {
        }
    }

    public Plan plan(ResolvedProgram program, VmSpec spec, ProgramConfig config) {
        if (store == null) return new Plan.Refused("snapshots are off on this node");
        Optional<String> refusal = SnapshotPolicy.refusal(program, spec, settings);
        return refusal.<Plan>map(Plan.Refused::new).orElseGet(() -> new Plan.Keyed(SnapshotPolicy.key(program, spec, config)));
    }

    /** A VM restored and refreshed, and how long the agent's refresh took. */
    public record Restore(QemuVm vm, Duration refresh, long generation) {
    }

    /**
     * Restores the key's snapshot into a new VM described by {@code spec}, and has its agent refresh
     * itself (randomness, clock; with a NIC, the address, routes, resolvers and MAC of
     * {@code config}'s network and {@code spec}'s card). Empty if there is no snapshot, or it failed:
     * then it was discarded (the reason logged) and the caller boots.
     */
    public Optional<Restore> restore(SnapshotKey key, VmSpec spec, ProgramConfig config) throws InterruptedException {
        Snapshot snapshot;
        try {
            Optional<Snapshot> found = store.find(key);
            if (found.isEmpty()) return Optional.empty();
            snapshot = found.get();
        } catch (SnapshotException e) {
            discard(key, e.reason() + ": " + e.getMessage());
            return Optional.empty();
        }
        QemuVm vm;
        try {
            vm = qemu.restore(spec, snapshot);
        } catch (SnapshotException e) {
            discard(key, e.reason() + ": " + e.getMessage());
            return Optional.empty();
        } catch (VmBootException e) {
            discard(key, "the restored VM did not come up (" + e.reason().label() + "): " + e.getMessage());
            return Optional.empty();
        }
        long generation = generations.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
        byte[] entropy = new byte[64];
        random.nextBytes(entropy);
        long t0 = System.nanoTime();
        try {
            RestoreNotice notice = spec.nic() == null || config.network() == null
                    ? new RestoreNotice(generation, entropy, Instant.now(), config.hostname())
                    : new RestoreNotice(generation, entropy, Instant.now(), config.hostname(), config.network(), spec.nic().mac());
            Restored r = vm.guest().restored(notice, REFRESH_TIMEOUT);
            Duration refresh = Duration.ofNanos(System.nanoTime() - t0);
            LOG.log(System.Logger.Level.INFO, "restored snapshot " + key.shortForm() + " as copy " + generation
                    + " (clock moved " + String.format("%.3f", r.clockOffset()) + " s, refresh " + refresh.toMillis() + " ms)");
            return Optional.of(new Restore(vm, refresh, generation));
        } catch (RuntimeException e) { // GuestException (refused, timed out, channel lost) or a bad answer
            vm.kill();
            discard(key, "the restored copy's agent did not refresh itself: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** A VM for a program that may be snapshotted: its RAM in a file, so that it can be saved. */
    public QemuVm launchSnapshottable(VmSpec spec) throws VmBootException, InterruptedException {
        return qemu.launchSnapshottable(spec);
    }

    /**
     * After a program's first boot to READY: saves its snapshot in the background once the VM is
     * quiet ({@code quiet}: its first request done and nothing in flight; after {@link #QUIET_WAIT},
     * any moment with nothing in flight), unless one exists or is being saved for the key.
     * {@code alive} false stops the wait (the VM ended).
     */
    public void saveInBackground(SnapshotKey key, Vm vm, BooleanSupplier quiet, BooleanSupplier idle, BooleanSupplier alive) {
        if (!(vm instanceof QemuVm q) || !q.snapshottable() || !q.guest().hello().can("restore")) return;
        if (closed || has(key)) return;
        Thread saver = Thread.ofVirtual().name("snapshot-" + key.shortForm()).unstarted(() -> {
            try {
                if (!closed) save(key, q, quiet, idle, alive);
            } finally {
                saving.remove(key);
            }
        });
        if (saving.putIfAbsent(key, saver) != null) return;
        saver.start();
    }

    /**
     * Stops the saves in progress and waits for them to clean up after themselves (a staged
     * snapshot is removed, never left half-written): after this returns nothing writes under the
     * snapshot directory. Called once the pool's VMs are stopped, so a save cannot wait on one.
     */
    public void close() {
        closed = true;
        for (Thread t : saving.values()) t.interrupt();
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        for (Thread t : saving.values()) {
            try {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void save(SnapshotKey key, QemuVm vm, BooleanSupplier quiet, BooleanSupplier idle, BooleanSupplier alive) {
        long deadline = System.nanoTime() + QUIET_WAIT.toNanos();
        Path staged = null;
        try {
            while (!(quiet.getAsBoolean() || System.nanoTime() > deadline && idle.getAsBoolean())) {
                if (!alive.getAsBoolean()) return;
                Thread.sleep(20);
            }
            if (!alive.getAsBoolean()) return;
            staged = store.stage(key);
            Snapshot s = vm.saveSnapshot(staged, key);
            store.commit(key, staged);
            staged = null;
            LOG.log(System.Logger.Level.INFO, "saved snapshot " + key.shortForm() + " of " + vm.id() + " (guest paused "
                    + Math.round(s.manifest().save().pauseMillis()) + " ms)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SnapshotException | IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not save a snapshot of " + vm.id() + ": " + e.getMessage());
        } finally {
            if (staged != null) store.abandon(staged);
        }
    }

    /** Whether a snapshot for the key is stored (for tests and the node's pages). */
    public boolean has(SnapshotKey key) {
        return store != null && java.nio.file.Files.isRegularFile(store.root().resolve(key.value()).resolve("manifest.json"));
    }

    private void discard(SnapshotKey key, String reason) {
        LOG.log(System.Logger.Level.WARNING, "snapshot " + key.shortForm() + " discarded, booting instead: " + reason);
        store.discard(key);
    }
}
