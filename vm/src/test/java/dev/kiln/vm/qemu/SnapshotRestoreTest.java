package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestRequest;
import dev.kiln.guest.GuestResponse;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.VmStart;
import dev.kiln.vm.VmState;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotKey;
import dev.kiln.vm.snapshot.SnapshotManifest;
import dev.kiln.vm.snapshot.SnapshotStore;
import dev.kiln.vm.snapshot.SnapshotVerifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Snapshots of a real guest under QEMU: one VM is booted, configured with a program and saved once
 * (in {@link #bootConfigureAndSave}); every test restores that one snapshot.
 */
class SnapshotRestoreTest {
    static QemuLauncher launcher;
    static QemuVm source;
    static SnapshotStore store;
    static Snapshot snapshot;
    static final SnapshotKey KEY = SnapshotKey.builder().runtime("minimal").code("hello-server").memoryMiB(256).vcpus(1).build();
    @TempDir
    static Path dir;

    @BeforeAll
    static void bootConfigureAndSave() throws Exception {
        launcher = new QemuLauncher(VmTests.options(dir.resolve("logs")));
        store = new SnapshotStore(dir.resolve("snapshots"), 4L << 30);
        source = launcher.launchSnapshottable(VmTests.spec("snap-src", dir.resolve("source")));
        source.guest().configure(VmTests.helloProgram("vm-snap"));
        assertThat(get(source, "/before-save")).contains("request=GET /before-save");
        Path staged = store.stage(KEY);
        snapshot = store.commit(KEY, source.saveSnapshot(staged, KEY).directory());
    }

    @AfterAll
    static void close() {
        if (launcher != null) launcher.close();
        assertThat(VmTests.runningQemuChildren()).as("QEMU left running after close()").isEmpty();
        if (source != null) assertThat(source.plan().ram().file()).as("the source's shared RAM file is removed").doesNotExist();
    }

    static String get(QemuVm vm, String path) {
        try (GuestResponse r = vm.guest().request(GuestRequest.get(path).withTimeout(Duration.ofSeconds(20)))) {
            assertThat(r.status()).isEqualTo(200);
            return r.bodyText();
        }
    }

    static VmSpec spec(String name) throws Exception {
        return VmTests.spec(name, dir.resolve(name));
    }

    @Test
    void theSnapshotIsSmallVerifiesAndTheSourceServesOn() throws Exception {
        SnapshotManifest m = snapshot.manifest();
        assertThat(m.key()).isEqualTo(KEY.value());
        assertThat(m.qemu()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(m.memoryMiB()).isEqualTo(256);
        assertThat(m.files().get("ram").size()).as("the RAM file has the guest's size").isEqualTo(256L << 20);
        assertThat(m.files().get("state").size()).as("no RAM in the device state").isLessThan(4L << 20);
        assertThat(m.commandShape()).contains("{kernel}").anyMatch(a -> a.endsWith("file={drive:root}"))
                .noneMatch(a -> a.contains(dir.toString()));
        assertThat(m.save().pauseMillis()).as("the guest's pause while saving").isPositive().isLessThan(5000);
        SnapshotVerifier.shared().verify(snapshot);
        assertThat(store.find(KEY)).map(Snapshot::directory).contains(snapshot.directory());
        // The source was paused and resumed, not consumed: it still serves.
        assertThat(source.state().isServing()).isTrue();
        assertThat(get(source, "/after-save")).contains("request=GET /after-save");
    }

    @Test
    void aRestoredVmAnswersItsProgramWithoutReconfiguring() throws Exception {
        QemuVm vm = launcher.restore(spec("restored"), snapshot);
        try {
            assertThat(vm.start()).isEqualTo(VmStart.RESTORE);
            assertThat(vm.state()).isEqualTo(VmState.READY);
            assertThat(vm.guest().hello().configured()).as("the agent announces its configured program").isTrue();
            assertThat(vm.restoreTimings()).isNotNull();
            assertThat(vm.bootDuration()).isLessThan(Duration.ofSeconds(10));
            assertThat(vm.guest().ping(Duration.ofSeconds(5))).isPositive();
            // The program started before the save answers in the copy: same hostname, same variables.
            assertThat(get(vm, "/in-the-copy")).contains("host=vm-snap").contains("greeting=from-the-test")
                    .contains("request=GET /in-the-copy");
        } finally {
            vm.stop(Duration.ofSeconds(2));
        }
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        assertThat(snapshot.ram()).as("stopping a restored VM leaves the snapshot alone").exists();
    }

    @Test
    void twoConcurrentRestoresBothAnswerAndShareTheSnapshotsPages() throws Exception {
        CompletableFuture<QemuVm> a = CompletableFuture.supplyAsync(() -> restore("twin-a"));
        CompletableFuture<QemuVm> b = CompletableFuture.supplyAsync(() -> restore("twin-b"));
        QemuVm vmA = a.get(60, TimeUnit.SECONDS);
        QemuVm vmB = b.get(60, TimeUnit.SECONDS);
        try {
            assertThat(get(vmA, "/a")).contains("request=GET /a");
            assertThat(get(vmB, "/b")).contains("request=GET /b");
            // Both map the snapshot's RAM file, and the pages they only read are the same page-cache pages.
            assertThat(sharedCleanKiB(vmA.pid(), snapshot.ram())).isPositive();
            assertThat(sharedCleanKiB(vmB.pid(), snapshot.ram())).isPositive();
        } finally {
            vmA.stop(Duration.ofSeconds(1));
            vmB.stop(Duration.ofSeconds(1));
        }
    }

    private static QemuVm restore(String name) {
        try {
            return launcher.restore(spec(name), snapshot);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Shared_Clean of the process's mappings of {@code file}, from /proc/PID/smaps. */
    static long sharedCleanKiB(long pid, Path file) throws IOException {
        long total = 0;
        boolean inMapping = false;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                inMapping = line.endsWith(" " + file.toString());
            } else if (inMapping && line.startsWith("Shared_Clean:")) {
                total += Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return total;
    }

    @Test
    void aDamagedRamOrStateFileIsRefusedBeforeQemuRuns() throws Exception {
        for (String file : List.of(SnapshotManifest.RAM, SnapshotManifest.STATE)) {
            Path copy = copyOf(snapshot, "damaged-" + file);
            long offset = file.equals(SnapshotManifest.RAM) ? 40L << 20 : 100;
            try (RandomAccessFile f = new RandomAccessFile(copy.resolve(file).toFile(), "rw")) {
                f.seek(offset);
                int b = f.read();
                f.seek(offset);
                f.write(b ^ 0x5a);
            }
            Snapshot damaged = Snapshot.open(copy);
            assertThatThrownBy(() -> launcher.restore(spec("damaged-" + file), damaged))
                    .isInstanceOfSatisfying(SnapshotException.class, e -> {
                        assertThat(e.reason()).isEqualTo(SnapshotException.Reason.CORRUPT);
                        assertThat(e.getMessage()).contains(file).contains("SHA-256");
                    });
        }
        assertThat(launcher.running()).containsExactly(source);
    }

    @Test
    void anIncompatibleSnapshotIsRefused() throws Exception {
        VmSpec bigger = new VmSpec("bigger", TestImages.kernel(), TestImages.runtime(), "squashfs", List.of(), 320, 1, List.of(),
                dir.resolve("bigger"), Duration.ofSeconds(30));
        assertThatThrownBy(() -> launcher.restore(bigger, snapshot))
                .isInstanceOfSatisfying(SnapshotException.class, e -> assertThat(e.reason()).isEqualTo(SnapshotException.Reason.INCOMPATIBLE))
                .hasMessageContaining("256 MiB");

        // Another QEMU took it: refused once QEMU is up and has said its version; nothing stays running.
        Path copy = copyOf(snapshot, "other-qemu");
        SnapshotManifest m = snapshot.manifest();
        new SnapshotManifest(m.format(), m.key(), m.created(), "6.2.0 (another build)", m.machine(), m.accelerator(), m.memoryMiB(),
                m.vcpus(), m.kernel(), m.drives(), m.commandShape(), m.files(), m.save()).write(copy);
        assertThatThrownBy(() -> launcher.restore(spec("other-qemu"), Snapshot.open(copy)))
                .isInstanceOfSatisfying(SnapshotException.class, e -> assertThat(e.reason()).isEqualTo(SnapshotException.Reason.INCOMPATIBLE))
                .hasMessageContaining("6.2.0");
        assertThat(launcher.running()).containsExactly(source);
    }

    private static Path copyOf(Snapshot s, String name) throws Exception {
        Path copy = dir.resolve("copies").resolve(name);
        Files.createDirectories(copy);
        for (String f : List.of(SnapshotManifest.RAM, SnapshotManifest.STATE, SnapshotManifest.FILE)) {
            Process p = new ProcessBuilder("cp", "--sparse=always", s.directory().resolve(f).toString(), copy.resolve(f).toString())
                    .inheritIO().start();
            assertThat(p.waitFor()).isZero();
        }
        return copy;
    }
}
