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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Saves a running, snapshottable VM (docs/snapshots.md, "Saving") without stopping it for long:
 *
 * <ol>
 *   <li>a second QEMU, the <em>writer</em>, starts with the VM's own command line, its RAM a shared
 *       mapping of the snapshot's {@code ram} file, listening for a migration and paused;</li>
 *   <li>the VM live-migrates into it: the guest runs on while its RAM is copied and pauses only
 *       for the last dirty pages and the device state (QEMU's downtime, a few ms); then {@code cont};</li>
 *   <li>the writer, holding an exact copy, writes its device state without RAM
 *       ({@code x-ignore-shared}: its RAM already is the file) and quits;</li>
 *   <li>the files are hashed, the manifest written.</li>
 * </ol>
 */
final class QemuSnapshotter {
    private static final System.Logger LOG = System.getLogger(QemuSnapshotter.class.getName());
    private static final Duration CALL = Duration.ofSeconds(2);
    private static final Duration SAVE_LIMIT = Duration.ofSeconds(60);
    /** The most the guest may be paused at the end of the live phase (QEMU's {@code downtime-limit}). */
    private static final long DOWNTIME_LIMIT_MS = 20;
    /** No throttling: the copy goes from one local process to another. */
    private static final long MAX_BANDWIDTH = 16L << 30;
    private static final String MIGRATION_SOCKET = "mig.sock";

    private QemuSnapshotter() {
    }

    static Snapshot save(QemuVm vm, Path directory, SnapshotKey key, SnapshotVerifier verifier)
            throws SnapshotException, InterruptedException {
        StartPlan plan = vm.plan();
        if (!plan.snapshottable()) {
            throw new IllegalStateException("VM " + vm.id() + " was not launched for snapshots; launch it with"
                    + " QemuLauncher.launchSnapshottable");
        }
        if (!vm.state().isServing()) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "VM " + vm.id() + " is " + vm.state() + ", not running");
        }
        Path dir = directory.toAbsolutePath().normalize();
        long deadline = System.nanoTime() + SAVE_LIMIT.toNanos();
        SnapshotManifest.SaveTimings timings;
        String version;
        Writer writer = null;
        try {
            QmpClient qmp = vm.qmp();
            version = QemuVersion.of(qmp);
            long t0 = System.nanoTime();
            writer = Writer.start(plan, dir, deadline);
            long t1 = System.nanoTime();
            double downtime = migrate(vm, qmp, writer.migrationSocket(), deadline);
            long t2 = System.nanoTime();
            writer.saveState(dir.resolve(SnapshotManifest.STATE), deadline);
            writer.quit();
            long t3 = System.nanoTime();
            timings = new SnapshotManifest.SaveTimings(downtime, millis(t3 - t2), millis(t2 - t1), millis(t1 - t0), 0);
        } catch (QmpException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "saving VM " + vm.id() + " failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "saving VM " + vm.id() + " failed: cannot start the"
                    + " snapshot writer (" + e.getMessage() + ")", e);
        } finally {
            if (writer != null) writer.close();
        }
        return finish(vm, dir, key, verifier, version, timings);
    }

    /**
     * Live-migrates the VM into the writer and resumes it.
     *
     * @return how long the guest was paused, in ms: QEMU's downtime plus our {@code cont}
     */
    private static double migrate(QemuVm vm, QmpClient qmp, Path socket, long deadline) throws QmpException, InterruptedException,
            SnapshotException {
        qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                List.of(Map.of("capability", "x-ignore-shared", "state", false))), CALL);
        qmp.execute("migrate-set-parameters", Map.of("downtime-limit", DOWNTIME_LIMIT_MS, "max-bandwidth", MAX_BANDWIDTH), CALL);
        JsonNode r;
        long resumed;
        try {
            qmp.execute("migrate", Map.of("uri", "unix:" + socket), CALL);
            r = MigrationWait.until(qmp, deadline, "copying the VM into the snapshot writer");
        } finally {
            // Completed: the source stays stopped until told to run on. Failed: QEMU resumed it already.
            long c0 = System.nanoTime();
            resume(vm, qmp);
            resumed = System.nanoTime() - c0;
        }
        if (!"completed".equals(r.path("status").asText())) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "QEMU could not copy VM " + vm.id() + ": "
                    + r.path("error-desc").asText(r.path("status").asText()));
        }
        return r.path("downtime").asDouble() + millis(resumed);
    }

    /** A guest left paused would hang every request: if it cannot be resumed, the VM is killed (FAILED). */
    private static void resume(QemuVm vm, QmpClient qmp) throws InterruptedException {
        try {
            if (!"running".equals(qmp.queryStatus(CALL))) qmp.execute("cont", null, CALL);
        } catch (QmpException e) {
            LOG.log(System.Logger.Level.WARNING, "VM " + vm.id() + " could not be resumed after a snapshot (" + e.getMessage()
                    + "); killing it");
            vm.kill();
        }
    }

    private static Snapshot finish(QemuVm vm, Path dir, SnapshotKey key, SnapshotVerifier verifier, String version,
                                   SnapshotManifest.SaveTimings t) throws SnapshotException {
        long h0 = System.nanoTime();
        try {
            VmSpec spec = vm.spec();
            Path ram = dir.resolve(SnapshotManifest.RAM);
            Path state = dir.resolve(SnapshotManifest.STATE);
            SnapshotManifest.FileIdentity ramId = new SnapshotManifest.FileIdentity(Files.size(ram), verifier.sha256(ram));
            SnapshotManifest.FileIdentity stateId = new SnapshotManifest.FileIdentity(Files.size(state), verifier.sha256(state));
            SnapshotManifest.FileIdentity kernel = new SnapshotManifest.FileIdentity(Files.size(spec.kernel()),
                    verifier.sha256(spec.kernel()));
            SnapshotManifest m = new SnapshotManifest(SnapshotManifest.FORMAT, key.value(), Instant.now().toString(), version,
                    "microvm", vm.accelerator().id(), spec.memoryMiB(), spec.vcpus(), kernel, drives(spec), vm.plan().shape(),
                    Map.of(SnapshotManifest.RAM, ramId, SnapshotManifest.STATE, stateId),
                    new SnapshotManifest.SaveTimings(t.pauseMillis(), t.stateMillis(), t.copyMillis(), t.writerStartMillis(),
                            millis(System.nanoTime() - h0)));
            m.write(dir);
            return new Snapshot(dir, m);
        } catch (IOException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "cannot write snapshot of VM " + vm.id() + " to " + dir
                    + ": " + e.getMessage(), e);
        }
    }

    static List<SnapshotManifest.DriveIdentity> drives(VmSpec spec) throws IOException {
        List<SnapshotManifest.DriveIdentity> list = new ArrayList<>();
        list.add(new SnapshotManifest.DriveIdentity("root", Files.size(spec.rootfs()), true));
        for (Drive d : spec.drives()) list.add(new SnapshotManifest.DriveIdentity(d.id(), Files.size(d.file()), d.readOnly()));
        return list;
    }

    /** For QEMU's {@code exec:} URIs, which run through {@code /bin/sh -c}. */
    static String shellQuote(String path) {
        return "'" + path.replace("'", "'\\''") + "'";
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 10_000.0) / 100.0;
    }

    /** The paused QEMU that receives the VM; its files live in {@code <snapshot>/.writer} until it quits. */
    private record Writer(Process process, VmFiles files, Path migrationSocket) implements AutoCloseable {

        static Writer start(StartPlan plan, Path snapshotDir, long deadline) throws IOException, InterruptedException, SnapshotException {
            VmFiles files = VmFiles.in(snapshotDir.resolve(".writer"));
            Files.createDirectories(files.workDir());
            Files.createDirectories(files.socketDirectory());
            Path socket = files.socketDirectory().resolve(MIGRATION_SOCKET);
            QemuCommandLine cmd = plan.commandFor().apply(files)
                    .withGuestRam(GuestRam.sharedFile(snapshotDir.resolve(SnapshotManifest.RAM)))
                    .withIncomingPaused("unix:" + socket);
            Process p = VmmSpawner.shared().start(new ProcessBuilder(cmd.command()).directory(files.workDir().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true).redirectOutput(files.vmmLog().toFile()));
            Writer w = new Writer(p, files, socket);
            while (!Files.exists(socket)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    w.close();
                    throw new SnapshotException(SnapshotException.Reason.FAILED, "the snapshot writer (QEMU) did not start: "
                            + ConsoleLog.readSmall(files.vmmLog(), 2048).strip());
                }
                Thread.sleep(2);
            }
            return w;
        }

        void saveState(Path state, long deadline) throws QmpException, InterruptedException, SnapshotException {
            try (QmpClient qmp = QmpClient.connect(files.qmpSocket(), CALL)) {
                // Its RAM is the snapshot's file already: the stream carries the device state only.
                qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                        List.of(Map.of("capability", "x-ignore-shared", "state", true))), CALL);
                qmp.execute("migrate", Map.of("uri", "exec:cat > " + shellQuote(state.toString())), CALL);
                JsonNode r = MigrationWait.until(qmp, deadline, "writing the device state");
                if (!"completed".equals(r.path("status").asText())) {
                    throw new SnapshotException(SnapshotException.Reason.FAILED, "the snapshot writer could not write the device state: "
                            + r.path("error-desc").asText(r.path("status").asText()));
                }
                qmp.quit(CALL);
            }
        }

        void quit() throws InterruptedException {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }

        /** Whatever happened: no writer left running, its files gone. */
        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                deleteTree(files.workDir());
                if (files.socketsElsewhere()) deleteTree(files.socketDirectory());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "cannot remove the snapshot writer's files: " + e.getMessage());
            }
        }

        private static void deleteTree(Path dir) throws IOException {
            if (!Files.exists(dir)) return;
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }
}
