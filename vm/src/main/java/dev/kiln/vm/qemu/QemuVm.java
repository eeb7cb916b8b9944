package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestChannelClosedException;
import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestException;
import dev.kiln.guest.GuestLog;
import dev.kiln.guest.GuestProtocolException;
import dev.kiln.guest.GuestTimeoutException;
import dev.kiln.guest.HaltResult;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmBootException.Reason;
import dev.kiln.vm.VmLifecycle;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmStart;
import dev.kiln.vm.VmState;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotKey;
import dev.kiln.vm.snapshot.SnapshotVerifier;

import java.io.IOException;
import java.nio.file.Files;
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

/**
 * One microVM run by QEMU. Booted by {@link QemuLauncher#launch}; from then on its
 * {@link #lifecycle()} is its one authoritative state, and two watchers keep it honest: QEMU's
 * exit and the guest channel's closing both move a live VM to FAILED (the pool then answers 502
 * and boots a fresh one).
 *
 * <p>Who cleans up: whatever ends the VM, the exit watcher removes the sockets and the pid file,
 * appends QEMU's own output to the console log and tells the launcher, once QEMU has exited.
 */
public final class QemuVm implements Vm {
    private static final System.Logger LOG = System.getLogger(QemuVm.class.getName());
    private static final Executor WATCHERS = task -> Thread.ofVirtual().name("kiln-vm-watcher").start(task);
    /** Lines of console in a boot failure's message. */
    static final int FAILURE_TAIL_LINES = 25;
    /** After HALTED the agent syncs and powers off; TCG takes a few hundred ms for that. */
    private static final Duration POWER_OFF_WAIT = Duration.ofMillis(2500);
    private static final Duration HALT_SLACK = Duration.ofMillis(1500);
    private static final Duration QMP_WAIT = Duration.ofMillis(1000);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);
    /** QEMU closes the console when it exits; what it sent before is read within this. */
    private static final Duration CONSOLE_DRAIN = Duration.ofMillis(500);

    /** What QEMU left behind when it exited, read before the files are cleaned. */
    private record ExitReport(int status, String vmmOutput, String consoleTail) {}

    private final String id;
    private final VmSpec spec;
    private final AcceleratorChoice accelerator;
    private final VmFiles files;
    private final QemuCommandLine commandLine;
    private final VmmRegistry registry;
    private final BiConsumer<Vm, GuestLog> guestLog;
    private final Path logDirectory;
    private final int consoleLogsKept;
    private final Runnable onGone;
    private final StartPlan plan;
    private final Object saving = new Object();
    private final VmLifecycle lifecycle = new VmLifecycle();
    private final CompletableFuture<Integer> exited = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final AtomicBoolean cleaned = new AtomicBoolean();

    private volatile Process process;
    private volatile GuestConnection guest;
    private volatile Instant startedAt;
    private volatile Duration bootDuration;
    private volatile ExitReport exitReport;
    private volatile Path consoleLog;
    private volatile ConsoleCapture console;
    private QmpClient qmp;

    QemuVm(String id, VmSpec spec, AcceleratorChoice accelerator, VmFiles files, QemuCommandLine commandLine,
           VmmRegistry registry, QemuLauncher.Options options, StartPlan plan, Runnable onGone) {
        this.id = id;
        this.spec = spec;
        this.accelerator = accelerator;
        this.files = files;
        this.commandLine = commandLine;
        this.registry = registry;
        this.guestLog = options.guestLog();
        this.logDirectory = options.logDirectory();
        this.consoleLogsKept = options.consoleLogsKept();
        this.consoleLog = files.consoleLog();
        this.onGone = onGone;
        this.plan = plan;
    }

    // ------------------------------------------------------------------ boot

    /** Starts QEMU and waits for the agent's hello: READY on return, nothing left running on failure. */
    void boot(VmmSpawner spawner, GuestConnection.Options guestOptions) throws VmBootException, InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + spec.bootTimeout().toNanos();
        startedAt = Instant.now();
        Process p;
        try {
            console = ConsoleCapture.listen(files.consoleSocket(), files.consoleLog());
        } catch (IOException e) {
            failIfLive();
            cleanup();
            throw new VmBootException(Reason.VMM_START_FAILED, "VM " + id + " did not boot: cannot listen for its console on " + files.consoleSocket()
                    + " (" + e.getMessage() + ")", e);
        }
        try {
            p = spawner.start(new ProcessBuilder(commandLine.command()).directory(files.workDir().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true).redirectOutput(files.vmmLog().toFile()));
        } catch (IOException e) {
            failIfLive();
            cleanup();
            throw new VmBootException(Reason.VMM_START_FAILED, "VM " + id + " did not boot: cannot start " + commandLine.command().getFirst() + " ("
                    + e.getMessage() + "). Install QEMU (qemu-system-x86; scripts/setup.sh does it).", e);
        } catch (InterruptedException e) {
            failIfLive();
            cleanup();
            throw e;
        }
        process = p;
        console.start(id);
        try {
            registry.record(id, p.toHandle(), files.workDir());
        } catch (IOException e) {
            // setpriv still ties QEMU to this JVM; only the sweep after a crash loses this VM.
            LOG.log(System.Logger.Level.WARNING, "cannot record the VMM of " + id + " in " + registry.directory() + ": " + e.getMessage());
        }
        p.onExit().thenRunAsync(this::onVmmExit, WATCHERS);

        try {
            if (!lifecycle.transition(VmState.PREPARING, VmState.BOOTING)) throw new BootFailure(Reason.STOPPED, "it was stopped while starting");
            if (plan.incoming() != null) loadSnapshot(t0, deadline);
            GuestConnection g = connectGuest(guestOptions.withLogSink(log -> guestLog.accept(this, log)), deadline);
            guest = g;
            bootDuration = Duration.ofNanos(System.nanoTime() - t0);
            if (!lifecycle.transition(VmState.BOOTING, VmState.READY)) throw new BootFailure(Reason.STOPPED, "it was stopped while booting");
            g.closed().thenAcceptAsync(this::onGuestClosed, WATCHERS);
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + " ready in " + bootDuration.toMillis() + " ms (pid " + p.pid()
                    + ", " + accelerator.accelerator().id() + ")");
        } catch (BootFailure f) {
            throw bootFailed(f.reason, f.getMessage(), f.getCause());
        } catch (InterruptedException e) {
            bootFailed(Reason.STOPPED, "interrupted", e);
            throw e;
        }
    }

    private void loadSnapshot(long t0, long deadline) throws BootFailure, InterruptedException {
        try {
            plan.incoming().load(qmp(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))), t0, deadline);
        } catch (SnapshotException e) {
            throw new BootFailure(Reason.SNAPSHOT_UNUSABLE, e.getMessage(), e);
        } catch (QmpException e) {
            if (!process.isAlive()) throw exitedEarly();
            throw new BootFailure(Reason.SNAPSHOT_UNUSABLE, "QEMU's monitor did not answer while the snapshot loaded ("
                    + e.getMessage() + ")", e);
        }
    }

    /** A reason for a failed boot, turned into a {@link VmBootException} by {@link #bootFailed}. */
    private static final class BootFailure extends Exception {
        final Reason reason;

        BootFailure(Reason reason, String message) {
            this(reason, message, null);
        }

        BootFailure(Reason reason, String message, Throwable cause) {
            super(message, cause);
            this.reason = reason;
        }
    }

    private GuestConnection connectGuest(GuestConnection.Options options, long deadline) throws BootFailure, InterruptedException {
        Path socket = files.guestSocket();
        while (true) {
            if (!process.isAlive()) throw exitedEarly();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new BootFailure(Reason.TIMEOUT, "QEMU did not open the guest channel (" + socket + ") within "
                        + spec.bootTimeout().toSeconds() + " s");
            }
            if (Files.exists(socket)) {
                try {
                    return GuestConnection.connect(socket, options.withHelloTimeout(Duration.ofNanos(left)));
                } catch (GuestTimeoutException e) {
                    throw new BootFailure(Reason.TIMEOUT, "the guest agent did not say hello within " + spec.bootTimeout().toSeconds()
                            + " s (bootTimeout)", e);
                } catch (GuestProtocolException e) {
                    throw new BootFailure(Reason.PROTOCOL, "the guest agent broke the protocol: " + e.getMessage(), e);
                } catch (GuestChannelClosedException e) {
                    // QEMU closes the channel when it exits: give the exit a moment to be seen.
                    if (awaitExit(Duration.ofSeconds(3))) throw exitedEarly();
                    throw new BootFailure(Reason.CHANNEL, "the guest channel closed before the agent said hello (" + e.getMessage() + ")", e);
                } catch (GuestException e) {
                    if (Thread.interrupted()) throw new InterruptedException();
                    throw new BootFailure(Reason.CHANNEL, "the guest channel failed: " + e.getMessage(), e);
                } catch (IOException e) {
                    // not listening yet
                }
            }
            Thread.sleep(5);
        }
    }

    private BootFailure exitedEarly() throws InterruptedException {
        awaitExit(Duration.ofSeconds(3));
        ExitReport r = exitReport;
        String status = r != null ? "status " + r.status() : "status " + (process.isAlive() ? "?" : process.exitValue());
        return new BootFailure(Reason.VMM_EXITED, "QEMU exited (" + status + ") before the guest agent said hello");
    }

    private VmBootException bootFailed(Reason kind, String reason, Throwable cause) throws InterruptedException {
        VmState state = lifecycle.state();
        if (state == VmState.STOPPING || state == VmState.STOPPED) {
            kind = Reason.STOPPED;
            if (!reason.startsWith("it was stopped")) reason = "it was stopped while booting (" + reason + ")";
        } else {
            failIfLive();
        }
        GuestConnection g = guest;
        if (g != null) g.close();
        Process p = process;
        if (p != null && p.isAlive()) p.destroyForcibly();
        awaitExit(KILL_WAIT);
        ExitReport r = exitReport;
        String tail = r != null ? r.consoleTail() : consoleTail(FAILURE_TAIL_LINES);
        StringBuilder m = new StringBuilder("VM ").append(id).append(" did not boot: ").append(reason).append('.');
        String hint = hint(tail);
        if (hint != null) m.append(' ').append(hint);
        if (r != null && !r.vmmOutput().isBlank()) m.append("\nQEMU said: ").append(r.vmmOutput().strip());
        m.append("\n--- console (last ").append(FAILURE_TAIL_LINES).append(" lines of ").append(consoleLog).append(") ---\n")
                .append(tail.isEmpty() ? "(empty)" : tail);
        return new VmBootException(kind, m.toString(), cause);
    }

    /** What the console says went wrong, in words a user can act on. */
    private String hint(String tail) {
        for (String line : tail.split("\n")) {
            if (line.contains("kiln-init0: FATAL")) return "init0 failed: " + line.substring(line.indexOf("FATAL")).strip() + ".";
        }
        if (tail.contains("VFS: Unable to mount root") || tail.contains("VFS: Cannot open root device")) {
            return "The kernel could not mount the runtime image " + spec.rootfs() + " as a " + spec.rootfsType()
                    + " root filesystem: is it a " + spec.rootfsType() + " image?";
        }
        if (tail.contains("Attempted to kill init")) return "The guest's init exited (see the console below).";
        return null;
    }

    // ------------------------------------------------------------------ watchers

    private void onVmmExit() {
        Process p = process;
        int status = p.exitValue();
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
        if (failIfServing()) {
            LOG.log(System.Logger.Level.WARNING, "VM " + id + " failed: its guest channel closed (" + cause.getMessage()
                    + "); stopping QEMU");
            Process p = process;
            if (p != null) p.destroyForcibly();
        }
    }

    /** Moves a VM that is neither stopping nor over to FAILED; true if this call did it. */
    private boolean failIfLive() {
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

    // ------------------------------------------------------------------ stop and kill

    @Override
    public void stop(Duration grace) {
        VmState was;
        while (true) {
            was = lifecycle.state();
            if (was.isTerminal()) return;
            if (was == VmState.STOPPING) {
                awaitQuietly(stopped, grace.plus(KILL_WAIT).plus(QMP_WAIT.multipliedBy(2)));
                return;
            }
            if (lifecycle.transition(was, VmState.STOPPING)) break;
        }
        try {
            shutDown(was, grace);
        } finally {
            stopped.complete(null);
        }
    }

    private void shutDown(VmState was, Duration grace) {
        Process p = process;
        if (p == null) {
            // Never started: nothing runs. The booting thread sees STOPPING and gives up.
            lifecycle.transition(VmState.STOPPING, VmState.STOPPED);
            return;
        }
        try {
            GuestConnection g = guest;
            if (was.isServing() && g != null && g.isOpen()) {
                try {
                    HaltResult r = g.halt(grace, grace.plus(HALT_SLACK));
                    LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + " halted: " + r);
                    awaitExit(POWER_OFF_WAIT);
                } catch (GuestException e) {
                    LOG.log(System.Logger.Level.INFO, "VM " + id + ": graceful halt failed (" + e.getMessage() + "); quitting QEMU");
                }
            }
            if (p.isAlive()) {
                quitThroughQmp();
                awaitExit(QMP_WAIT);
            }
            if (p.isAlive()) {
                p.destroyForcibly();
                awaitExit(KILL_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        if (exited.isDone()) {
            lifecycle.transition(VmState.STOPPING, VmState.STOPPED);
        } else {
            LOG.log(System.Logger.Level.ERROR, "VM " + id + ": QEMU (pid " + p.pid() + ") did not exit even after SIGKILL");
            lifecycle.transition(VmState.STOPPING, VmState.FAILED);
        }
    }

    private void quitThroughQmp() throws InterruptedException {
        try {
            qmp().quit(QMP_WAIT);
        } catch (QmpException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + ": QMP quit failed: " + e.getMessage());
        }
    }

    @Override
    public void kill() {
        failIfLive();
        if (lifecycle.state() == VmState.STOPPING) lifecycle.transition(VmState.STOPPING, VmState.FAILED);
        Process p = process;
        if (p != null) p.destroyForcibly();
    }

    /** True once QEMU has exited and the exit has been handled (files cleaned). */
    private boolean awaitExit(Duration timeout) throws InterruptedException {
        try {
            exited.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    private static void awaitQuietly(CompletableFuture<?> f, Duration timeout) {
        try {
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // bounded wait: the caller only wanted to give the other stop a chance to finish
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
        try {
            Files.deleteIfExists(files.guestSocket());
            Files.deleteIfExists(files.qmpSocket());
            if (files.socketsElsewhere()) Files.deleteIfExists(files.socketDirectory());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + ": cannot remove its sockets: " + e.getMessage());
        }
        ExitReport r = exitReport;
        ConsoleLog.appendVmmOutput(files, r != null ? r.vmmOutput() : ConsoleLog.readSmall(files.vmmLog(), 8192));
        try {
            Files.deleteIfExists(files.vmmLog());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + id + ": cannot remove " + files.vmmLog() + ": " + e.getMessage());
        }
        try {
            if (Files.exists(files.consoleLog())) {
                consoleLog = ConsoleLog.archive(files.consoleLog(), logDirectory, id, consoleLogsKept);
            }
            // The node's directory for this VM: removed only if nothing but ours was in it.
            try (var left = Files.list(files.workDir())) {
                if (left.findAny().isEmpty()) Files.deleteIfExists(files.workDir());
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "VM " + id + ": cannot move its console log to " + logDirectory + ": " + e.getMessage());
        }
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
    public java.io.Closeable followConsole(java.util.function.Consumer<byte[]> sink) {
        ConsoleCapture c = console;
        return c != null ? c.follow(sink) : Vm.super.followConsole(sink);
    }

    @Override
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
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
