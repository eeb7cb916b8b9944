package dev.kiln.vm.qemu;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One small file per running VMM in the launcher's run directory, naming the VMM's process and the
 * JVM that owns it, both with their start times (a pid alone can be reused). A launcher that
 * starts sweeps the directory: a VMM whose owner is gone is an orphan — its JVM was killed in the
 * one moment setpriv cannot cover, or ran without setpriv — and is killed.
 *
 * <p>Files of owners that still run (another node on the same Kiln home) are left alone.
 */
final class VmmRegistry {
    private static final System.Logger LOG = System.getLogger(VmmRegistry.class.getName());
    static final String SUFFIX = ".vmm";

    /** A VMM found by a sweep: killed, or already gone. */
    record Swept(String vmId, long pid, boolean killed, Path workDir) {}

    private final Path directory;

    VmmRegistry(Path directory) {
        this.directory = directory.toAbsolutePath().normalize();
    }

    Path directory() {
        return directory;
    }

    /** Records a VMM that this JVM has just started. */
    void record(String vmId, ProcessHandle vmm, Path workDir) throws IOException {
        Files.createDirectories(directory);
        ProcessHandle self = ProcessHandle.current();
        Properties p = new Properties();
        p.setProperty("vm", vmId);
        p.setProperty("vmm.pid", Long.toString(vmm.pid()));
        p.setProperty("vmm.start", startMillis(vmm).map(String::valueOf).orElse(""));
        p.setProperty("owner.pid", Long.toString(self.pid()));
        p.setProperty("owner.start", startMillis(self).map(String::valueOf).orElse(""));
        p.setProperty("work", workDir.toString());
        java.io.StringWriter text = new java.io.StringWriter();
        p.store(text, "a VMM started by Kiln; removed when it stops (docs/vm.md)");
        Path file = fileOf(vmId);
        Path tmp = directory.resolve("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text.toString());
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Forgets a VMM that has exited. */
    void forget(String vmId) {
        try {
            Files.deleteIfExists(fileOf(vmId));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + fileOf(vmId) + ": " + e.getMessage());
        }
    }

    /** Kills the VMMs whose owning JVM is gone and removes their files. */
    List<Swept> sweep() {
        List<Swept> swept = new ArrayList<>();
        if (!Files.isDirectory(directory)) return swept;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                Swept s = sweepOne(file);
                if (s != null) swept.add(s);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot sweep stale VMMs in " + directory + ": " + e.getMessage());
        }
        return swept;
    }

    private Swept sweepOne(Path file) throws IOException {
        Properties p = new Properties();
        try {
            p.load(new StringReader(Files.readString(file)));
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring unreadable VMM record " + file + ": " + e.getMessage());
            return null;
        }
        long ownerPid = parse(p.getProperty("owner.pid"));
        long vmmPid = parse(p.getProperty("vmm.pid"));
        if (ownerPid <= 0 || vmmPid <= 0) {
            Files.deleteIfExists(file);
            return null;
        }
        if (isRunning(ownerPid, p.getProperty("owner.start"))) return null;
        String vmId = p.getProperty("vm", file.getFileName().toString());
        Path work = p.getProperty("work") == null ? null : Path.of(p.getProperty("work"));
        boolean killed = false;
        Optional<ProcessHandle> vmm = ProcessHandle.of(vmmPid);
        if (vmm.isPresent() && isRunning(vmmPid, p.getProperty("vmm.start")) && looksLikeQemu(vmm.get())) {
            LOG.log(System.Logger.Level.WARNING, "killing orphaned VMM of " + vmId + " (pid " + vmmPid + "): its node (pid "
                    + ownerPid + ") is gone");
            vmm.get().destroyForcibly();
            try {
                vmm.get().onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "orphaned VMM pid " + vmmPid + " did not exit after SIGKILL");
            }
            killed = true;
        }
        Files.deleteIfExists(file);
        return new Swept(vmId, vmmPid, killed, work);
    }

    /** The process exists, is not a zombie, and started when the record says (not a reused pid). */
    static boolean isRunning(long pid, String recordedStart) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive() || isZombie(pid)) return false;
        if (recordedStart == null || recordedStart.isEmpty()) return true;
        Optional<Long> start = startMillis(h.get());
        return start.isEmpty() || start.get() == parse(recordedStart);
    }

    private static boolean looksLikeQemu(ProcessHandle h) {
        return h.info().command().map(c -> c.contains("qemu")).orElse(true);
    }

    static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Long> startMillis(ProcessHandle h) {
        return h.info().startInstant().map(Instant::toEpochMilli);
    }

    /** VM ids are unique within a JVM only: the owner's pid makes the name unique on the host. */
    private Path fileOf(String vmId) {
        return directory.resolve(ProcessHandle.current().pid() + "-" + vmId + SUFFIX);
    }

    private static long parse(String s) {
        try {
            return s == null ? -1 : Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
