package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestLog;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmLifecycle;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmStart;
import dev.kiln.vm.VmState;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotKey;
import dev.kiln.vm.snapshot.SnapshotVerifier;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One microVM run by QEMU. Booted by {@link QemuLauncher#launch}; from then on its
 * {@link #lifecycle()} is its one authoritative state. This class holds that state and what the VM
 * owns (process, guest channel, console, monitor); {@link BootSequence} drives the way up and
 * {@link StopSequence} the way down. Two watchers keep the state honest: QEMU's exit and the guest
 * channel's closing both move a live VM to FAILED (the pool then answers 502 and boots a fresh one).
 *
 * <p>Who cleans up: whatever ends the VM, the exit watcher removes the sockets and the pid file,
 * appends QEMU's own output to the console log and tells the launcher, once QEMU has exited.
 */
public final class QemuVm implements Vm {
    private static final System.Logger LOG = System.getLogger(QemuVm.class.getName());
    private static final Executor WATCHERS = task -> Thread.ofVirtual().name("kiln-vm-watcher").start(task);
    /** Lines of console in a boot failure's message. */
    static final int FAILURE_TAIL_LINES = 25;
    static final Duration QMP_WAIT = Duration.ofMillis(1000);
    static final Duration KILL_WAIT = Duration.ofSeconds(5);
    /** QEMU closes the console when it exits; what it sent before is read within this. */
    private static final Duration CONSOLE_DRAIN = Duration.ofMillis(500);

    /** What QEMU left behind when it exited, read before the files are cleaned. */
    record ExitReport(int status, String vmmOutput, String consoleTail) {}

    private final String id;
    private final VmSpec spec;
    private final AcceleratorChoice accelerator;
    private final VmFiles files;
    private final QemuCommandLine commandLine;
    private final VmmRegistry registry;
    private final BiConsumer<Vm, GuestLog> guestLog;
    private final WorkDirectory workDirectory;
    private final Runnable onGone;
    private final StartPlan plan;
    private final Object saving = new Object();
    private final VmLifecycle lifecycle = new VmLifecycle();
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private final StopSequence stopping = new StopSequence(this);
    private final AtomicBoolean cleaned = new AtomicBoolean();
    /** Launched to outlive this JVM (docs/vm.md, "Detached VMs"). */
    private final boolean detached;
    /** Let go of, left running: nothing here touches it any more. */
    private final AtomicBoolean released = new AtomicBoolean();

    /** Null for an adopted VM: QEMU is not this JVM's child then, only {@link #vmm} is known. */
    private volatile Process process;
    private volatile ProcessHandle vmm;
    private volatile GuestConnection guest;
    private volatile Instant startedAt;
    private volatile Duration bootDuration;
    private volatile ExitReport exitReport;
    private volatile Path consoleLog;
    private volatile ConsoleCapture console;
    private QmpClient qmp;

    QemuVm(String id, VmSpec spec, AcceleratorChoice accelerator, VmFiles files, QemuCommandLine commandLine,
           VmmRegistry registry, QemuLauncher.Options options, StartPlan plan, boolean detached, Runnable onGone) {
        this.id = id;
        this.detached = detached;
        this.spec = spec;
        this.accelerator = accelerator;
        this.files = files;
        this.commandLine = commandLine;
        this.registry = registry;
        this.guestLog = options.guestLog();
        this.workDirectory = new WorkDirectory(files, options.logDirectory(), options.consoleLogsKept());
        this.consoleLog = files.consoleLog();
        this.onGone = onGone;
        this.plan = plan;
    }

    // ------------------------------------------------------------------ boot (see BootSequence)

    /** Starts QEMU and waits for the agent's hello: READY on return, nothing left running on failure. */
    void boot(VmmSpawner spawner, GuestConnection.Options guestOptions) throws VmBootException, InterruptedException {
        startedAt = Instant.now();
        new BootSequence(this).run(spawner, guestOptions);
    }

    void attachConsole(ConsoleCapture capture) {
        console = capture;
    }

    /** QEMU runs: the console starts recording, the VMM is registered and its exit watched. */
    void attachProcess(Process p) {
        process = p;
        vmm = p.toHandle();
        console.start(id);
        if (!detached) {
            try {
                registry.record(id, p.toHandle(), files.workDir());
            } catch (IOException e) {
                // setpriv still ties QEMU to this JVM; only the sweep after a crash loses this VM.
                LOG.log(System.Logger.Level.WARNING, "cannot record the VMM of " + id + " in " + registry.directory() + ": " + e.getMessage());
            }
        }
        p.onExit().thenRunAsync(this::onVmmExit, WATCHERS);
    }

    /**
     * Once READY: a detached VM writes down what the next driver needs to adopt it. A VM that
     * cannot be found again must not outlive its node, so a failure here fails the launch.
     */
    void recordDetached() throws IOException {
        ProcessHandle h = vmm;
        long start = h.info().startInstant().map(Instant::toEpochMilli)
                .orElseThrow(() -> new IOException("the start time of pid " + h.pid() + " is unknown"));
        new DetachedVmFile(id, spec, commandLine.command(), h.pid(), start, accelerator.accelerator(), startedAt, bootDuration)
                .write();
    }

    /** An adopted VM: QEMU runs already (not as this JVM's child), monitor and agent answered. */
    void attachAdopted(ProcessHandle h, ConsoleCapture capture, GuestConnection g, Instant started, Duration booted) {
        vmm = h;
        console = capture;
        guest = g;
        startedAt = started;
        bootDuration = booted;
        capture.start(id);
        h.onExit().thenRunAsync(this::onVmmExit, WATCHERS);
    }

    synchronized void attachMonitor(QmpClient client) {
        qmp = client;
    }

    void attachGuest(GuestConnection g, Duration booted) {
        guest = g;
        bootDuration = booted;
    }

    /** Once READY: a guest channel that closes fails the VM. */
    void watchGuest(GuestConnection g) {
        g.closed().thenAcceptAsync(this::onGuestClosed, WATCHERS);
        LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + " ready in " + bootDuration.toMillis() + " ms (pid " + pid()
                + ", " + accelerator.accelerator().id() + ")");
    }

    /** A boot that failed before QEMU ran: fail the VM and release what it held. */
    void abandon() {
        failIfLive();
        cleanup();
    }

    BiConsumer<Vm, GuestLog> guestLog() {
        return guestLog;
    }

    Process process() {
        return process;
    }

    ExitReport exitReport() {
        return exitReport;
    }

    /** True once QEMU has exited and the exit has been handled (as {@link #awaitExit}). */
    boolean hasExited() {
        return exited.isDone();
    }

    // ------------------------------------------------------------------ watchers

    private void onVmmExit() {
        if (released.get()) return;
        Process p = process;
        int status = p != null ? p.exitValue() : -1;
        ConsoleCapture c = console;
        if (c != null) c.awaitEnd(CONSOLE_DRAIN);
        exitReport = new ExitReport(status, ConsoleLog.readSmall(files.vmmLog(), 8192), consoleTail(FAILURE_TAIL_LINES));
        VmState was = lifecycle.state();
        if (failIfLive() && was.isServing()) {
            LOG.log(System.Logger.Level.WARNING, "VM " + id + " failed: QEMU exited unexpectedly (status " + status + ")\n"
                    + consoleTail(10));
        }
        GuestConnection g = guest;
        if (g != null) g.close();
        cleanup();
        exited.complete(status);
    }

    private void onGuestClosed(GuestChannelClosedException cause) {
        if (released.get()) return;
        if (failIfServing()) {
            LOG.log(System.Logger.Level.WARNING, "VM " + id + " failed: its guest channel closed (" + cause.getMessage()
                    + "); stopping QEMU");
            ProcessHandle p = vmm;
            if (p != null) p.destroyForcibly();
        }
    }

    /** Moves a VM that is neither stopping nor over to FAILED; true if this call did it. */
    boolean failIfLive() {
        while (true) {
            VmState s = lifecycle.state();
            if (s.isTerminal() || s == VmState.STOPPING) return false;
            if (lifecycle.transition(s, VmState.FAILED)) return true;
        }
    }

    private boolean failIfServing() {
        while (true) {
            VmState s = lifecycle.state();
            if (!s.isServing()) return false;
            if (lifecycle.transition(s, VmState.FAILED)) return true;
        }
    }

    // ------------------------------------------------------------------ stop (see StopSequence) and kill

    @Override
    public void stop(Duration grace) {
        stopping.run(grace);
    }

    @Override
    public void kill() {
        if (released.get()) return;
        failIfLive();
        if (lifecycle.state() == VmState.STOPPING) lifecycle.transition(VmState.STOPPING, VmState.FAILED);
        ProcessHandle p = vmm;
        if (p != null) p.destroyForcibly();
    }

    /** True once QEMU has exited and the exit has been handled (files cleaned). */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        try {
            exited.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    // ------------------------------------------------------------------ cleanup

    private void cleanup() {
        if (!cleaned.compareAndSet(false, true)) return;
        ConsoleCapture c = console;
        if (c != null) {
            // QEMU has exited: its side of the console is closed, or it never connected.
            c.awaitEnd(CONSOLE_DRAIN);
            c.close();
            c.awaitEnd(CONSOLE_DRAIN);
        }
        synchronized (this) {
            if (qmp != null) qmp.close();
        }
        if (detached) {
            // The VM is over: no later driver may look for it.
            try {
                java.nio.file.Files.deleteIfExists(DetachedVmFile.in(files.workDir()));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + ": cannot remove its adoption record: " + e.getMessage());
            }
        }
        ExitReport r = exitReport;
        Path archived = workDirectory.clear(id, r != null ? r.vmmOutput() : ConsoleLog.readSmall(files.vmmLog(), 8192));
        if (archived != null) consoleLog = archived;
        if (plan.ram() != null) plan.ram().release();
        registry.forget(id);
        onGone.run();
    }

    // ------------------------------------------------------------------ accessors

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
        return accelerator.accelerator();
    }

    /** Why this accelerator (forced or probed). */
    public AcceleratorChoice acceleratorChoice() {
        return accelerator;
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public Duration bootDuration() {
        return bootDuration;
    }

    @Override
    public Path consoleLog() {
        return consoleLog;
    }

    @Override
    public String consoleTail(int lines) {
        ConsoleCapture c = console;
        return c != null ? c.tail(lines) : ConsoleLog.tail(consoleLog, lines);
    }

    @Override
    public Closeable followConsole(Consumer<byte[]> sink) {
        ConsoleCapture c = console;
        return c != null ? c.follow(sink) : Vm.super.followConsole(sink);
    }

    @Override
    public long pid() {
        ProcessHandle p = vmm;
        return p == null ? -1 : p.pid();
    }

    /** The VMM's process (whether this JVM started it or adopted it); null before QEMU started. */
    ProcessHandle vmm() {
        return vmm;
    }

    @Override
    public java.util.Optional<dev.kiln.vm.VmAdoption> adoption() {
        ProcessHandle p = vmm;
        if (!detached || p == null) return java.util.Optional.empty();
        return java.util.Optional.of(new dev.kiln.vm.VmAdoption(id, files.workDir(), p.pid()));
    }

    /** True if this VM was launched or adopted to outlive its driver. */
    public boolean detached() {
        return detached;
    }

    @Override
    public boolean release() {
        if (!detached || lifecycle.state().isTerminal() || lifecycle.state() == VmState.STOPPING || hasExited()) return false;
        if (!released.compareAndSet(false, true)) return false;
        // Only this side closes: QEMU keeps the guest port, the monitor and the console, and the
        // agent waits for the next host (docs/guest-protocol.md, re-hello).
        GuestConnection g = guest;
        if (g != null) g.close();
        synchronized (this) {
            if (qmp != null) qmp.close();
        }
        ConsoleCapture c = console;
        if (c != null) {
            c.close();
            c.awaitEnd(CONSOLE_DRAIN);
        }
        onGone.run();
        LOG.log(System.Logger.Level.INFO, "VM " + id + " (pid " + pid() + ") left running for the next node");
        return true;
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited.copy();
    }

    public VmFiles files() {
        return files;
    }

    /** The command QEMU was started with (without the setpriv wrapper). */
    public QemuCommandLine commandLine() {
        return commandLine;
    }

    /**
     * QEMU's monitor for this VM, connected on first use (one connection per VM: QEMU serves one
     * QMP client per socket at a time). Closed when the VM ends.
     */
    public QmpClient qmp() throws QmpException, InterruptedException {
        return qmp(QMP_WAIT);
    }

    synchronized QmpClient qmp(Duration connectTimeout) throws QmpException, InterruptedException {
        if (cleaned.get()) throw new QmpException("VM " + id + " has ended: no QEMU monitor any more");
        if (qmp == null || !qmp.isOpen()) qmp = QmpClient.connect(files.qmpSocket(), connectTimeout);
        return qmp;
    }

    // ------------------------------------------------------------------ snapshots

    @Override
    public VmStart start() {
        return plan.start();
    }

    /** True if this VM can {@link #saveSnapshot} (launched with {@link QemuLauncher#launchSnapshottable}). */
    public boolean snapshottable() {
        return plan.snapshottable();
    }

    /** For a restored VM: how long QEMU took to come up and to load the state; null for a boot. */
    public SnapshotIncoming.Timings restoreTimings() {
        return plan.incoming() == null ? null : plan.incoming().timings();
    }

    /**
     * Saves a snapshot of this running guest into {@code directory} (empty; e.g. a
     * {@link dev.kiln.vm.snapshot.SnapshotStore#stage} directory). The guest pauses for a few tens
     * of milliseconds and then runs on; the files are hashed after that. One save at a time per VM.
     *
     * @throws SnapshotException FAILED if QEMU could not save or the files could not be written
     * @throws IllegalStateException if the VM was not launched snapshottable
     */
    public Snapshot saveSnapshot(Path directory, SnapshotKey key) throws SnapshotException, InterruptedException {
        synchronized (saving) {
            return QemuSnapshotter.save(this, directory, key, SnapshotVerifier.shared());
        }
    }

    StartPlan plan() {
        return plan;
    }

    /** QEMU's view of the VM ({@code running}, {@code paused}, …), through QMP. */
    public String vmmStatus() throws QmpException, InterruptedException {
        return qmp().queryStatus(QMP_WAIT);
    }

    @Override
    public String toString() {
        return "QemuVm[" + id + ", " + lifecycle.state() + ", pid " + pid() + "]";
    }
}
