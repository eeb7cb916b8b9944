package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestLog;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmBootException.Reason;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmStart;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotVerifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Boots microVMs with QEMU ({@code -machine microvm}, see docs/vm.md).
 *
 * <pre>{@code
 * try (QemuLauncher launcher = new QemuLauncher(QemuLauncher.Options.in(kilnHome).withKernel(kernel.vmlinux()))) {
 *     Vm vm = launcher.launch(new VmSpec("0f20…", kernel.vmlinux(), runtime.image(), "squashfs", List.of(),
 *             256, 1, List.of(), kilnHome.resolve("vms/0f20…"), Duration.ofSeconds(30)));
 *     vm.guest().configure(…);
 *     vm.stop(Duration.ofSeconds(2));
 * }
 * }</pre>
 *
 * <p>No VMM outlives the launcher's JVM — but a {@link #launchDetached detached} one, made to (then
 * {@link #adopt} takes it over in the next JVM): QEMU is started through {@code setpriv --pdeathsig KILL}
 * from one long-lived thread ({@link VmmSpawner}), each VMM is recorded in the run directory and
 * a new launcher kills the ones whose JVM is gone ({@link VmmRegistry}), {@link #close()} stops
 * every VM, and a shutdown hook does the same when the JVM exits without closing the launcher.
 *
 * <p>Nothing here is a global lock: launches of different VMs run in parallel; the only
 * process-wide wait is the first launch's accelerator probe, which later launches reuse.
 */
public final class QemuLauncher implements VmLauncher {
    private static final System.Logger LOG = System.getLogger(QemuLauncher.class.getName());
    private static final AtomicLong IDS = new AtomicLong();
    private static volatile HostTsc hostTsc;

    /**
     * @param runDirectory    where the launcher keeps a file per running VMM (for the orphan sweep)
     *                        and the remembered KVM probe; {@code <kiln home>/run/vm} by default
     * @param logDirectory    where the console logs of VMs that ended are kept; {@code <kiln home>/logs/vm}
     * @param consoleLogsKept how many of them (the newest); 50 by default
     * @param kernel          the guest kernel the KVM probe boots; null: the first launched VM's kernel
     * @param qemuBinary      QEMU's executable, {@code qemu-system-x86_64} from the PATH by default
     * @param accelerator     forces an accelerator; null: {@code KILN_ACCEL}, else the probe
     * @param guest           options of the guest connections (call timeout, keep-alive); the hello
     *                        timeout is each spec's {@code bootTimeout} and the log sink is {@code guestLog}
     * @param guestLog        receives each VM's agent LOG frames; by default they go to the system logger
     * @param closeGrace      the halt grace given to each VM by {@link #close()}; 2 s by default
     */
    public record Options(Path runDirectory, Path logDirectory, int consoleLogsKept, Path kernel, String qemuBinary,
                          Accelerator accelerator, GuestConnection.Options guest, BiConsumer<Vm, GuestLog> guestLog,
                          Duration closeGrace) {
        public static final int DEFAULT_CONSOLE_LOGS_KEPT = 50;

        public Options {
            Objects.requireNonNull(runDirectory, "runDirectory");
            logDirectory = logDirectory == null ? runDirectory.resolve("logs") : logDirectory;
            if (consoleLogsKept < 1) throw new IllegalArgumentException("consoleLogsKept must be at least 1, got " + consoleLogsKept);
            qemuBinary = qemuBinary == null ? QemuCommandLine.DEFAULT_BINARY : qemuBinary;
            guest = guest == null ? GuestConnection.Options.defaults() : guest;
            guestLog = guestLog == null ? QemuLauncher::logToSystemLogger : guestLog;
            closeGrace = closeGrace == null ? Duration.ofSeconds(2) : closeGrace;
        }

        /** The defaults for a Kiln home (see the parameters). */
        public static Options in(Path kilnHome) {
            return new Options(kilnHome.resolve("run").resolve("vm"), kilnHome.resolve("logs").resolve("vm"),
                    DEFAULT_CONSOLE_LOGS_KEPT, null, null, null, null, null, null);
        }

        public Options withRunDirectory(Path directory) {
            return new Options(directory, logDirectory, consoleLogsKept, kernel, qemuBinary, accelerator, guest, guestLog, closeGrace);
        }

        public Options withConsoleLogs(Path directory, int kept) {
            return new Options(runDirectory, directory, kept, kernel, qemuBinary, accelerator, guest, guestLog, closeGrace);
        }

        public Options withKernel(Path probeKernel) {
            return new Options(runDirectory, logDirectory, consoleLogsKept, probeKernel, qemuBinary, accelerator, guest, guestLog,
                    closeGrace);
        }

        public Options withQemuBinary(String binary) {
            return new Options(runDirectory, logDirectory, consoleLogsKept, kernel, binary, accelerator, guest, guestLog, closeGrace);
        }

        public Options withCloseGrace(Duration grace) {
            return new Options(runDirectory, logDirectory, consoleLogsKept, kernel, qemuBinary, accelerator, guest, guestLog, grace);
        }
    }

    private final Options options;
    private final VmmSpawner spawner;
    private final VmmRegistry registry;
    private final Map<String, QemuVm> live = new ConcurrentHashMap<>();
    private final Map<Path, String> workDirs = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;
    private final List<VmmRegistry.Swept> swept;
    private volatile AcceleratorChoice accelerator;

    /** Sweeps VMMs left behind by a dead node (see the class comment); probes nothing yet. */
    public QemuLauncher(Options options) {
        this(options, VmmSpawner.shared());
    }

    QemuLauncher(Options options, VmmSpawner spawner) {
        this.options = Objects.requireNonNull(options, "options");
        this.spawner = spawner;
        this.registry = new VmmRegistry(options.runDirectory());
        this.swept = List.copyOf(registry.sweep());
        GuestRam.sweep();
        for (VmmRegistry.Swept s : swept) {
            if (s.killed()) LOG.log(System.Logger.Level.WARNING, "killed an orphaned VMM of " + s.vmId() + " (pid " + s.pid() + ")");
        }
        this.shutdownHook = Thread.ofPlatform().name("kiln-vm-shutdown").unstarted(this::onJvmExit);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public Options options() {
        return options;
    }

    /** What the sweep at construction found: VMMs of dead nodes (killed), or stale records. */
    List<VmmRegistry.Swept> swept() {
        return swept;
    }

    @Override
    public Accelerator accelerator() {
        return acceleratorChoice().accelerator();
    }

    /**
     * The accelerator and why; probes KVM on first use (up to 5 s where KVM fails, less than one
     * where it works; remembered for this boot of the host).
     *
     * @throws IllegalArgumentException if {@code KILN_ACCEL} is not tcg, kvm or auto
     */
    public AcceleratorChoice acceleratorChoice() {
        try {
            return acceleratorFor(options.kernel());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing KVM", e);
        }
    }

    private AcceleratorChoice acceleratorFor(Path kernel) throws InterruptedException {
        AcceleratorChoice a = accelerator;
        if (a == null) {
            a = AcceleratorProbe.choose(options.accelerator() == null ? null : options.accelerator().id(),
                    options.qemuBinary(), options.kernel() != null ? options.kernel() : kernel, options.runDirectory(), spawner);
            accelerator = a;
        }
        return a;
    }

    /** The VMs this launcher started that have not ended yet. */
    public List<QemuVm> running() {
        return List.copyOf(live.values());
    }

    @Override
    public QemuVm launch(VmSpec spec) throws VmBootException, InterruptedException {
        return start(spec, null, false, false);
    }

    /**
     * Boots a VM that outlives this JVM (docs/vm.md, "Detached VMs"): QEMU in its own session
     * without a parent-death signal, not in the orphan sweep's registry, its console socket
     * reconnecting, and {@code vm.properties} written in its work directory once READY so that a
     * later launcher can {@link #adopt} it. {@link #close()} still stops it unless it was
     * {@link QemuVm#release() released}; the JVM's exit alone does not.
     */
    @Override
    public QemuVm launchDetached(VmSpec spec) throws VmBootException, InterruptedException {
        return start(spec, null, false, true);
    }

    @Override
    public QemuVm adopt(dev.kiln.vm.VmAdoption adoption) throws VmBootException, InterruptedException {
        if (closed.get()) {
            throw new VmBootException(Reason.LAUNCHER_CLOSED, "cannot adopt VM " + adoption.vmId() + ": the VM launcher is closed");
        }
        return Adopter.adopt(this, adoption);
    }

    @Override
    public void discard(Path workDir) {
        Adopter.discard(workDir, options.logDirectory(), options.consoleLogsKept());
    }

    /** Registers an adopted VM as this launcher's (its work directory taken), or refuses a clash. */
    QemuVm register(String vmId, VmSpec spec, AcceleratorChoice accel, QemuCommandLine commandLine) throws VmBootException {
        VmFiles files = VmFiles.in(spec.workDir());
        String id = live.containsKey(vmId) ? vmId + "-adopted-" + IDS.incrementAndGet() : vmId;
        String holder = workDirs.putIfAbsent(files.workDir(), id);
        if (holder != null) {
            throw new VmBootException(Reason.INVALID_SPEC, "cannot adopt VM " + vmId + ": its work directory " + files.workDir()
                    + " is in use by " + holder);
        }
        QemuVm vm = new QemuVm(id, spec, accel, files, commandLine, registry, options,
                new StartPlan(VmStart.BOOT, null, List.of(), null), true, () -> {
            live.remove(id);
            workDirs.remove(files.workDir(), id);
        });
        live.put(id, vm);
        return vm;
    }

    /**
     * Boots a VM whose guest RAM lives in a shared-memory file, so that it can
     * {@link QemuVm#saveSnapshot save snapshots} (docs/snapshots.md). Costs what a plain boot costs.
     */
    public QemuVm launchSnapshottable(VmSpec spec) throws VmBootException, InterruptedException {
        return start(spec, null, true, false);
    }

    /**
     * Starts a VM from a snapshot instead of booting it: the snapshot is verified (hashes), checked
     * against the spec (machine, memory, kernel, drives, command-line shape, QEMU version), its RAM
     * mapped copy-on-write, its device state loaded; READY on return once the agent answered.
     * The spec must describe the VM the snapshot was taken of (its own work directory, though).
     *
     * @throws SnapshotException the snapshot is unusable ({@link SnapshotException#reason()}): discard
     *                           it and {@link #launch} instead; nothing is left running
     * @throws VmBootException   the VM could not be started for another reason (as for a boot)
     */
    public QemuVm restore(VmSpec spec, Snapshot snapshot) throws SnapshotException, VmBootException, InterruptedException {
        Objects.requireNonNull(snapshot, "snapshot");
        SnapshotVerifier.shared().verify(snapshot);
        try {
            return start(spec, snapshot, false, false);
        } catch (VmBootException e) {
            if (e.getCause() instanceof SnapshotException s) throw new SnapshotException(s.reason(), e.getMessage(), e);
            throw e;
        }
    }

    private QemuVm start(VmSpec spec, Snapshot snapshot, boolean snapshottable, boolean detached)
            throws VmBootException, InterruptedException {
        Objects.requireNonNull(spec, "spec");
        if (closed.get()) {
            throw new VmBootException(Reason.LAUNCHER_CLOSED, "cannot boot VM " + spec.name()
                    + ": the VM launcher is closed (shutting down)");
        }
        SpecFiles.check(spec);
        AcceleratorChoice accel;
        try {
            accel = acceleratorFor(spec.kernel());
        } catch (IllegalArgumentException e) {
            throw new VmBootException(Reason.HOST_UNSUPPORTED, "cannot boot VM " + spec.name() + ": " + e.getMessage());
        }
        HostTsc tsc = accel.accelerator() == Accelerator.TCG ? tsc(spec) : null;
        VmFiles files = VmFiles.in(spec.workDir());
        QemuCommandLine commandLine;
        try {
            commandLine = QemuCommandLine.of(options.qemuBinary(), spec, accel.accelerator(), tsc, files)
                    .withConsoleSocket(files.consoleSocket());
            if (detached) commandLine = commandLine.withConsoleReconnect();
        } catch (IllegalArgumentException e) {
            throw new VmBootException(Reason.INVALID_SPEC, "cannot boot VM " + spec.name() + ": " + e.getMessage());
        }
        String id = newId(spec.name());
        StartPlan plan;
        try {
            List<String> shape = CommandShape.of(commandLine, spec, files);
            if (snapshot != null) {
                SnapshotCompatibility.check(snapshot, spec, accel.accelerator(), shape, SnapshotVerifier.shared());
                plan = new StartPlan(VmStart.RESTORE, GuestRam.copyOnWrite(snapshot.ram()), shape, new SnapshotIncoming(snapshot));
                commandLine = commandLine.withGuestRam(plan.ram()).withIncomingDeferred();
            } else if (snapshottable) {
                plan = new StartPlan(VmStart.BOOT, GuestRam.sharedFor(id), shape, null);
                commandLine = commandLine.withGuestRam(plan.ram());
            } else {
                plan = new StartPlan(VmStart.BOOT, null, shape, null);
            }
        } catch (SnapshotException e) {
            throw new VmBootException(Reason.SNAPSHOT_UNUSABLE, "cannot restore VM " + spec.name() + ": " + e.getMessage(), e);
        }
        String holder = workDirs.putIfAbsent(files.workDir(), id);
        if (holder != null) {
            throw new VmBootException(Reason.INVALID_SPEC, "cannot boot VM " + spec.name() + ": its work directory " + files.workDir()
                    + " is in use by " + holder + "; give each running VM its own work directory");
        }
        try {
            new WorkDirectory(files, options.logDirectory(), options.consoleLogsKept()).prepare();
            if (plan.snapshottable()) Files.createDirectories(plan.ram().file().getParent());
        } catch (IOException e) {
            workDirs.remove(files.workDir(), id);
            throw new VmBootException(Reason.INVALID_SPEC, "cannot boot VM " + spec.name() + ": cannot prepare its work directory " + files.workDir()
                    + ": " + e.getMessage(), e);
        }
        QemuVm vm = new QemuVm(id, spec, accel, files, commandLine, registry, options, plan, detached, () -> {
            live.remove(id);
            workDirs.remove(files.workDir(), id);
        });
        live.put(id, vm);
        if (closed.get()) {
            // close() ran between the check above and now, and did not see this VM.
            live.remove(id);
            workDirs.remove(files.workDir(), id);
            throw new VmBootException(Reason.LAUNCHER_CLOSED, "cannot boot VM " + spec.name() + ": the VM launcher is closed (shutting down)");
        }
        vm.boot(spawner, options.guest());
        if (detached) {
            try {
                vm.recordDetached();
            } catch (IOException e) {
                vm.kill();
                throw new VmBootException(Reason.INVALID_SPEC, "VM " + spec.name() + " was not started: it is to outlive this node,"
                        + " but its adoption record cannot be written in " + files.workDir() + " (" + e.getMessage() + ")", e);
            }
        }
        return vm;
    }

    /** Stops every VM this launcher runs, in parallel, each with {@link Options#closeGrace()}. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already exiting: the hook runs (or ran) anyway
        }
        stopAll(options.closeGrace());
    }

    private void onJvmExit() {
        closed.set(true);
        // Exiting should be quick: a short grace, then QMP quit, then SIGKILL.
        stopAll(options.closeGrace().compareTo(Duration.ofSeconds(1)) < 0 ? options.closeGrace() : Duration.ofSeconds(1), true);
    }

    private void stopAll(Duration grace) {
        stopAll(grace, false);
    }

    /** @param sparingDetached leave detached VMs running (the JVM exits: they are meant to survive that) */
    private void stopAll(Duration grace, boolean sparingDetached) {
        List<Thread> stops = new ArrayList<>();
        for (QemuVm vm : live.values()) if (!(sparingDetached && vm.detached())) stops.add(Thread.ofVirtual().name("kiln-vm-stop-" + vm.id()).start(() -> vm.stop(grace)));
        for (Thread t : stops) {
            try {
                t.join(grace.plusSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (QemuVm vm : live.values()) if (!(sparingDetached && vm.detached())) vm.kill();
    }

    // ------------------------------------------------------------------ helpers

    GuestConnection.Options guestOptions(QemuVm vm) {
        return options.guest().withLogSink(log -> options.guestLog().accept(vm, log));
    }

    private static HostTsc tsc(VmSpec spec) throws VmBootException {
        HostTsc t = hostTsc;
        if (t == null) {
            try {
                t = HostTsc.detect();
            } catch (IllegalStateException e) {
                throw new VmBootException(Reason.HOST_UNSUPPORTED, "cannot boot VM " + spec.name() + " under TCG: " + e.getMessage());
            }
            hostTsc = t;
            LOG.log(System.Logger.Level.INFO, "host TSC for TCG guests: " + t);
        }
        return t;
    }

    private static String newId(String name) {
        String clean = name.replaceAll("[^A-Za-z0-9._-]", "_");
        if (clean.length() > 24) clean = clean.substring(0, 24);
        return "vm-" + clean + "-" + IDS.incrementAndGet();
    }

    private static void logToSystemLogger(Vm vm, GuestLog log) {
        System.Logger.Level level = "error".equals(log.level()) ? System.Logger.Level.WARNING : System.Logger.Level.INFO;
        LOG.log(level, "guest " + vm.id() + ": " + log.message()
                + (log.requestId() != null ? " [request " + log.requestId() + "]" : "")
                + (log.traceback() != null ? "\n" + log.traceback() : ""));
    }
}
