package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestRequest;
import dev.kiln.guest.GuestResponse;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotKey;
import dev.kiln.vm.snapshot.SnapshotManifest;
import dev.kiln.vm.snapshot.SnapshotStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Boot versus restore, for docs/performance.md ("Snapshots"). Not a test; bench/vm/snapshot.sh runs it.
 *
 * <ol>
 *   <li>{@code runs} times, alternating: boot a snapshottable VM → configure the probe program →
 *       first answer; save it while a client keeps sending requests (the longest of those is the
 *       pause a user sees); stop it; restore that snapshot → first answer; stop.</li>
 *   <li>Two restores of one snapshot: what they share (randomness) and the guest clock.</li>
 *   <li>Host memory: {@code vms} idle VMs restored from one snapshot versus {@code vms} booted ones
 *       (plain boots, anonymous RAM), each having answered one request: sum of PSS and RSS.</li>
 * </ol>
 */
public final class SnapshotBenchmark {
    private SnapshotBenchmark() {
    }

    record Run(double boot, double restore, double restoreHello, double vmmStart, double load, double pause, double clientMax,
               double saveTotal) {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int vms = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path tmp = Files.createTempDirectory("kiln-snapshot-bench");
        List<Run> results = new ArrayList<>();
        try (QemuLauncher launcher = new QemuLauncher(QemuLauncher.Options.in(TestImages.kilnHome()).withKernel(TestImages.kernel())
                .withConsoleLogs(tmp.resolve("logs"), 200))) {
            SnapshotStore store = new SnapshotStore(tmp.resolve("snapshots"), 64L << 30);
            System.out.println("accelerator: " + launcher.acceleratorChoice());
            Snapshot last = null;
            for (int i = 0; i < runs; i++) {
                SnapshotKey key = SnapshotKey.builder().code("copy-probe").data(Integer.toString(i)).build();
                long t0 = System.nanoTime();
                QemuVm booted = launcher.launchSnapshottable(spec("boot-" + i, tmp));
                booted.guest().configure(VmTests.copyProbeProgram("bench"));
                get(booted);
                double boot = ms(t0);

                AtomicBoolean saving = new AtomicBoolean(true);
                AtomicLong clientMax = new AtomicLong();
                Thread client = Thread.ofVirtual().start(() -> {
                    while (saving.get()) {
                        long r0 = System.nanoTime();
                        get(booted);
                        clientMax.accumulateAndGet(System.nanoTime() - r0, Math::max);
                    }
                });
                Thread.sleep(50);
                long s0 = System.nanoTime();
                Snapshot s = store.commit(key, booted.saveSnapshot(store.stage(key), key).directory());
                double saveTotal = ms(s0);
                Thread.sleep(50);
                saving.set(false);
                client.join();
                booted.stop(Duration.ofSeconds(1));
                last = s;

                long r0 = System.nanoTime();
                QemuVm restored = launcher.restore(spec("restore-" + i, tmp), s);
                double hello = ms(r0);
                get(restored);
                double restore = ms(r0);
                SnapshotIncoming.Timings t = restored.restoreTimings();
                restored.stop(Duration.ofSeconds(1));
                SnapshotManifest.SaveTimings st = s.manifest().save();
                results.add(new Run(boot, restore, hello, t.vmmStart().toNanos() / 1e6, t.load().toNanos() / 1e6,
                        st.pauseMillis(), clientMax.get() / 1e6, saveTotal));
                System.out.printf(Locale.ROOT, "run %d: %s%n", i + 1, results.getLast());
            }
            report(results);
            copies(launcher, last, tmp);
            memory(launcher, last, tmp, vms);
            System.out.println("snapshot on disk: " + du(last.directory()) + " (apparent " + (Files.size(last.ram())
                    + Files.size(last.state())) / (1 << 20) + " MiB)");
        }
    }

    private static void copies(QemuLauncher launcher, Snapshot s, Path tmp) throws Exception {
        QemuVm a = launcher.restore(spec("copy-a", tmp), s);
        QemuVm b = launcher.restore(spec("copy-b", tmp), s);
        double host = System.currentTimeMillis() / 1000.0;
        System.out.printf(Locale.ROOT, "two restores of one snapshot (host time %.3f, snapshot taken %s):%n  a: %s  b: %s", host,
                s.manifest().created(), get(a), get(b));
        a.stop(Duration.ofSeconds(1));
        b.stop(Duration.ofSeconds(1));
    }

    private static void memory(QemuLauncher launcher, Snapshot s, Path tmp, int count) throws Exception {
        List<QemuVm> restored = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            QemuVm vm = launcher.restore(spec("mem-r" + i, tmp), s);
            get(vm);
            restored.add(vm);
        }
        Thread.sleep(2000);
        Memory r = memoryOf(restored);
        for (QemuVm vm : restored) vm.stop(Duration.ofSeconds(1));
        List<QemuVm> booted = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            QemuVm vm = launcher.launch(spec("mem-b" + i, tmp));
            vm.guest().configure(VmTests.copyProbeProgram("bench"));
            get(vm);
            booted.add(vm);
        }
        Thread.sleep(2000);
        Memory b = memoryOf(booted);
        for (QemuVm vm : booted) vm.stop(Duration.ofSeconds(1));
        System.out.println(count + " idle VMs restored from one snapshot: " + r);
        System.out.println(count + " idle VMs booted:                     " + b);
        System.out.printf(Locale.ROOT, "restored / booted: PSS x%.2f, RSS x%.2f (goal <= 0.5)%n",
                (double) r.pssKiB() / b.pssKiB(), (double) r.rssKiB() / b.rssKiB());
    }

    /**
     * Sums over QEMU processes of smaps_rollup: PSS charges a page shared by n processes 1/n to
     * each, so PSS well under RSS with much Shared_Clean is what pages shared with the other copies
     * (the snapshot's RAM file in the page cache, mapped privately by each) look like.
     */
    record Memory(int vms, long pssKiB, long rssKiB, long sharedCleanKiB, long privateDirtyKiB) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "PSS %d MiB (%.1f per VM), RSS %d MiB, Shared_Clean %d MiB, Private_Dirty %d MiB",
                    pssKiB / 1024, pssKiB / 1024.0 / vms, rssKiB / 1024, sharedCleanKiB / 1024, privateDirtyKiB / 1024);
        }
    }

    private static Memory memoryOf(List<QemuVm> vms) throws IOException {
        long pss = 0;
        long rss = 0;
        long sharedClean = 0;
        long privateDirty = 0;
        for (QemuVm vm : vms) {
            for (String line : Files.readAllLines(Path.of("/proc/" + vm.pid() + "/smaps_rollup"))) {
                long kib = line.matches("^\\w+:\\s+\\d+ kB$") ? Long.parseLong(line.replaceAll("\\D", "")) : 0;
                if (line.startsWith("Pss:")) pss += kib;
                if (line.startsWith("Rss:")) rss += kib;
                if (line.startsWith("Shared_Clean:")) sharedClean += kib;
                if (line.startsWith("Private_Dirty:")) privateDirty += kib;
            }
        }
        return new Memory(vms.size(), pss, rss, sharedClean, privateDirty);
    }

    private static String du(Path dir) throws Exception {
        Process p = new ProcessBuilder("du", "-sh", dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        return out.split("\\s")[0];
    }

    private static VmSpec spec(String name, Path tmp) throws Exception {
        return new VmSpec(name, TestImages.kernel(), TestImages.runtime(), "squashfs", List.of(), 256, 1, List.of(),
                tmp.resolve(name), Duration.ofSeconds(60));
    }

    private static String get(QemuVm vm) {
        try (GuestResponse r = vm.guest().request(GuestRequest.get("/").withTimeout(Duration.ofSeconds(20)))) {
            if (r.status() != 200) throw new IllegalStateException("status " + r.status());
            return r.bodyText();
        }
    }

    private static double ms(long from) {
        return (System.nanoTime() - from) / 1e6;
    }

    private static void report(List<Run> runs) {
        System.out.println("medians [min–max] of " + runs.size() + " runs, ms:");
        line("boot → first answer      ", runs.stream().map(Run::boot).toList());
        line("restore → first answer   ", runs.stream().map(Run::restore).toList());
        line("  of which QEMU start    ", runs.stream().map(Run::vmmStart).toList());
        line("  of which state load    ", runs.stream().map(Run::load).toList());
        line("  restore → agent hello  ", runs.stream().map(Run::restoreHello).toList());
        line("save: guest paused       ", runs.stream().map(Run::pause).toList());
        line("save: slowest request    ", runs.stream().map(Run::clientMax).toList());
        line("save: total (with hashes)", runs.stream().map(Run::saveTotal).toList());
        List<Double> ratio = runs.stream().map(r -> r.restore() / r.boot()).toList();
        System.out.printf(Locale.ROOT, "restore / boot: median %.3f%n", median(ratio));
    }

    private static void line(String label, List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        System.out.printf(Locale.ROOT, "%s %8.1f  [%.1f–%.1f]%n", label, median(v), v.getFirst(), v.getLast());
    }

    private static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        return v.get(v.size() / 2);
    }
}
