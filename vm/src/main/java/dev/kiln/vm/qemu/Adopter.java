package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestException;
import dev.kiln.vm.VmAdoption;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmBootException.Reason;
import dev.kiln.vm.VmState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Takes over a detached VM that another launcher started (docs/vm.md, "Detached VMs"): proves
 * that the recorded pid still is that VM (alive, started when recorded, running exactly the
 * recorded command line), then reconnects what the earlier driver had — the console (QEMU
 * reconnects to the new listener), the monitor (QMP {@code query-name} must give the VM's name)
 * and the guest agent (a host HELLO: the agent drops the old host's streams and announces itself,
 * already configured). A VM that is alive but fails any of this is killed, so that the caller may
 * start a fresh one and two never run.
 */
final class Adopter {
    private static final System.Logger LOG = System.getLogger(Adopter.class.getName());
    private static final Duration MONITOR_WAIT = Duration.ofSeconds(5);
    private static final Duration HELLO_WAIT = Duration.ofSeconds(15);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private Adopter() {
    }

    static QemuVm adopt(QemuLauncher launcher, VmAdoption a) throws VmBootException, InterruptedException {
        DetachedVmFile f = recordOf(a);
        if (f == null || !f.isRunningHere()) {
            boolean killed = f == null && killIfItIs(a);
            removeFiles(a.workDir(), launcher.options().logDirectory(), launcher.options().consoleLogsKept());
            throw new VmBootException(Reason.VMM_EXITED, "VM " + a.vmId() + " (pid " + a.pid() + ") "
                    + (killed ? "had no readable record in " + a.workDir() + " and was killed" : "is gone"));
        }
        ProcessHandle h = ProcessHandle.of(f.pid()).orElse(null);
        if (h == null) throw new VmBootException(Reason.VMM_EXITED, "VM " + a.vmId() + " (pid " + a.pid() + ") is gone");
        // Refused if a launcher of this JVM drives it already: it runs and is driven, so it is left alone.
        QemuVm vm = launcher.register(f.vmId(), f.spec(), new AcceleratorChoice(f.accelerator(), "as when it was started"),
                new QemuCommandLine(f.command(), valueAfter(f.command(), "-append")));
        VmFiles files = vm.files();
        ConsoleCapture console = null;
        QmpClient qmp = null;
        GuestConnection guest = null;
        boolean attached = false;
        try {
            vm.lifecycle().transition(VmState.PREPARING, VmState.BOOTING);
            console = ConsoleCapture.resume(files.consoleSocket(), files.consoleLog());
            qmp = QmpClient.connect(files.qmpSocket(), MONITOR_WAIT);
            String name = qmp.execute("query-name", null, MONITOR_WAIT).path("name").asText("");
            String expected = valueAfter(f.command(), "-name");
            if (!name.equals(expected)) {
                throw new IllegalStateException("its monitor names it '" + name + "', its record '" + expected + "'");
            }
            vm.attachMonitor(qmp);
            guest = GuestConnection.connect(files.guestSocket(), launcher.guestOptions(vm).withHelloTimeout(HELLO_WAIT));
            if (!guest.hello().configured()) throw new IllegalStateException("its agent has no program configured");
            vm.attachAdopted(h, console, guest, f.startedAt(), f.boot());
            attached = true;
            if (!vm.lifecycle().transition(VmState.BOOTING, VmState.READY)) throw new IllegalStateException("it was stopped meanwhile");
            vm.watchGuest(guest);
            LOG.log(System.Logger.Level.INFO, "adopted VM " + vm.id() + " (pid " + h.pid() + ", up since " + f.startedAt() + ")");
            return vm;
        } catch (IOException | GuestException | IllegalStateException e) {
            String why = e.getMessage();
            LOG.log(System.Logger.Level.WARNING, "cannot adopt VM " + a.vmId() + " (pid " + h.pid() + "): " + why + "; killing it");
            if (guest != null) guest.close();
            if (qmp != null) qmp.close();
            if (console != null && !attached) console.close();
            kill(h);
            vm.abandon();
            removeFiles(a.workDir(), launcher.options().logDirectory(), launcher.options().consoleLogsKept());
            throw new VmBootException(Reason.CHANNEL, "VM " + a.vmId() + " could not be adopted (" + why + "); it was killed", e);
        }
    }

    /** Kills a detached VM nobody adopts (if it still is that VM) and removes its files. */
    static void discard(Path workDir, Path logDirectory, int kept) {
        DetachedVmFile f = null;
        try {
            f = DetachedVmFile.read(workDir).orElse(null);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; its VM, if any, cannot be identified and is left alone");
        }
        if (f != null && f.isRunningHere()) {
            ProcessHandle.of(f.pid()).ifPresent(Adopter::kill);
            LOG.log(System.Logger.Level.WARNING, "killed detached VM " + f.vmId() + " (pid " + f.pid() + "): no node record names it");
        }
        removeFiles(workDir, logDirectory, kept);
    }

    private static DetachedVmFile recordOf(VmAdoption a) {
        try {
            return DetachedVmFile.read(a.workDir()).orElse(null);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "VM " + a.vmId() + ": " + e.getMessage());
            return null;
        }
    }

    /** Without a record, only a process whose command names this VM's monitor socket is this VM. */
    private static boolean killIfItIs(VmAdoption a) {
        Optional<ProcessHandle> h = ProcessHandle.of(a.pid());
        if (h.isEmpty() || !h.get().isAlive()) return false;
        try {
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(a.pid()), "cmdline")), StandardCharsets.UTF_8);
            if (!cmdline.contains(VmFiles.in(a.workDir()).qmpSocket().toString())) return false;
        } catch (IOException e) {
            return false;
        }
        kill(h.get());
        return true;
    }

    private static void kill(ProcessHandle h) {
        h.destroyForcibly();
        try {
            h.onExit().get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "pid " + h.pid() + " did not exit after SIGKILL");
        }
    }

    private static String valueAfter(List<String> command, String option) {
        int i = command.indexOf(option);
        return i >= 0 && i + 1 < command.size() ? command.get(i + 1) : "";
    }

    /** The work directory of a VM that is over: its console log kept with the others, the rest removed. */
    static void removeFiles(Path workDir, Path logDirectory, int kept) {
        VmFiles files = VmFiles.in(workDir);
        try {
            if (Files.exists(files.consoleLog())) {
                ConsoleLog.archive(files.consoleLog(), logDirectory, workDir.getFileName() + "-detached", kept);
            }
            Files.deleteIfExists(files.guestSocket());
            Files.deleteIfExists(files.qmpSocket());
            Files.deleteIfExists(files.consoleSocket());
            if (files.socketsElsewhere()) Files.deleteIfExists(files.socketDirectory());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot tidy " + workDir + ": " + e.getMessage());
        }
        if (!Files.isDirectory(workDir)) return;
        try (var walk = Files.walk(workDir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot remove " + workDir + ": " + e.getMessage());
        }
    }
}
