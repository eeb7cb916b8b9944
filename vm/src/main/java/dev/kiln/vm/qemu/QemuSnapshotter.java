package dev.kiln.vm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotKey;
import dev.kiln.vm.snapshot.SnapshotManifest;
import dev.kiln.vm.snapshot.SnapshotVerifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Saves a running, snapshottable VM (docs/snapshots.md, "Saving"): the guest is paused, QEMU
 * writes its device state (guest RAM is skipped: {@code x-ignore-shared}), the RAM file is copied
 * (sparse), the guest runs on. Then, with the guest running, the files are hashed and the
 * manifest written. The pause is a few tens of milliseconds; requests in flight wait that long.
 */
final class QemuSnapshotter {
    private static final System.Logger LOG = System.getLogger(QemuSnapshotter.class.getName());
    private static final Duration CALL = Duration.ofSeconds(2);
    private static final Duration SAVE_LIMIT = Duration.ofSeconds(30);

    private QemuSnapshotter() {
    }

    static Snapshot save(QemuVm vm, Path directory, SnapshotKey key, SnapshotVerifier verifier)
            throws SnapshotException, InterruptedException {
        StartPlan plan = vm.plan();
        if (!plan.snapshottable()) {
            throw new IllegalStateException("VM " + vm.id() + " keeps its RAM in anonymous memory; launch it with"
                    + " QemuLauncher.launchSnapshottable to save snapshots of it");
        }
        if (!vm.state().isServing()) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "VM " + vm.id() + " is " + vm.state() + ", not running");
        }
        Path dir = directory.toAbsolutePath().normalize();
        Path state = dir.resolve(SnapshotManifest.STATE);
        Path ram = dir.resolve(SnapshotManifest.RAM);
        double stateMs;
        double copyMs;
        double pauseMs;
        String version;
        try {
            QmpClient qmp = vm.qmp();
            version = QemuVersion.of(qmp);
            qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                    List.of(Map.of("capability", "x-ignore-shared", "state", true))), CALL);
            long t0 = System.nanoTime();
            qmp.execute("stop", null, CALL);
            try {
                qmp.execute("migrate", Map.of("uri", "exec:cat > " + shellQuote(state.toString())), CALL);
                JsonNode r = MigrationWait.until(qmp, t0 + SAVE_LIMIT.toNanos(), "saving the device state");
                if (!"completed".equals(r.path("status").asText())) {
                    throw new SnapshotException(SnapshotException.Reason.FAILED, "QEMU could not save VM " + vm.id() + ": "
                            + r.path("error-desc").asText(r.path("status").asText()));
                }
                long t1 = System.nanoTime();
                stateMs = millis(t1 - t0);
                copySparse(plan.ram().file(), ram);
                copyMs = millis(System.nanoTime() - t1);
            } finally {
                resume(vm, qmp);
            }
            pauseMs = millis(System.nanoTime() - t0);
        } catch (QmpException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "saving VM " + vm.id() + " failed: " + e.getMessage(), e);
        }

        long h0 = System.nanoTime();
        try {
            VmSpec spec = vm.spec();
            SnapshotManifest.FileIdentity ramId = new SnapshotManifest.FileIdentity(Files.size(ram), verifier.sha256(ram));
            SnapshotManifest.FileIdentity stateId = new SnapshotManifest.FileIdentity(Files.size(state), verifier.sha256(state));
            SnapshotManifest.FileIdentity kernel = new SnapshotManifest.FileIdentity(Files.size(spec.kernel()),
                    verifier.sha256(spec.kernel()));
            SnapshotManifest m = new SnapshotManifest(SnapshotManifest.FORMAT, key.value(), Instant.now().toString(), version,
                    "microvm", vm.accelerator().id(), spec.memoryMiB(), spec.vcpus(), kernel, drives(spec), plan.shape(),
                    Map.of(SnapshotManifest.RAM, ramId, SnapshotManifest.STATE, stateId),
                    new SnapshotManifest.SaveTimings(pauseMs, stateMs, copyMs, millis(System.nanoTime() - h0)));
            m.write(dir);
            return new Snapshot(dir, m);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "cannot write snapshot of VM " + vm.id() + " to " + dir
                    + ": " + e.getMessage(), e);
        }
    }

    /** A guest left paused would hang every request: if it cannot be resumed, the VM is killed (FAILED). */
    private static void resume(QemuVm vm, QmpClient qmp) throws InterruptedException {
        try {
            qmp.execute("cont", null, CALL);
        } catch (QmpException e) {
            LOG.log(System.Logger.Level.WARNING, "VM " + vm.id() + " could not be resumed after a snapshot (" + e.getMessage()
                    + "); killing it");
            vm.kill();
        }
    }

    static List<SnapshotManifest.DriveIdentity> drives(VmSpec spec) throws IOException {
        List<SnapshotManifest.DriveIdentity> list = new ArrayList<>();
        list.add(new SnapshotManifest.DriveIdentity("root", Files.size(spec.rootfs()), true));
        for (Drive d : spec.drives()) list.add(new SnapshotManifest.DriveIdentity(d.id(), Files.size(d.file()), d.readOnly()));
        return list;
    }

    /**
     * {@code cp --sparse=always}: only the pages the guest touched take disk, and the copy skips
     * the rest (Java's file copy would write every zero).
     */
    private static void copySparse(Path from, Path to) throws SnapshotException, InterruptedException {
        try {
            Process p = new ProcessBuilder("cp", "--sparse=always", from.toString(), to.toString())
                    .redirectErrorStream(true).start();
            boolean done = p.waitFor(SAVE_LIMIT.toSeconds(), TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readNBytes(4096)).strip();
            if (!done) {
                p.destroyForcibly();
                throw new SnapshotException(SnapshotException.Reason.FAILED, "copying guest RAM to " + to + " took over "
                        + SAVE_LIMIT.toSeconds() + " s");
            }
            if (p.exitValue() != 0) {
                throw new SnapshotException(SnapshotException.Reason.FAILED, "copying guest RAM to " + to + " failed: " + out);
            }
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "cannot run cp to copy guest RAM: " + e.getMessage(), e);
        }
    }

    /** For QEMU's {@code exec:} URIs, which run through {@code /bin/sh -c}. */
    static String shellQuote(String path) {
        return "'" + path.replace("'", "'\\''") + "'";
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 10_000.0) / 100.0;
    }
}
