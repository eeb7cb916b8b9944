package dev.kiln.node;

import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Resources;
import dev.kiln.node.pool.StartKind;
import dev.kiln.node.snapshot.SnapshotSettings;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;

/**
 * Cold start by boot versus by restore through the node (not a test), for the programs issue 11
 * names: the sample (plain ASGI), a FastAPI app, and a Node.js executable. Per runtime two nodes on
 * one launcher, one with snapshots off, one on; alternating runs, each an idle program's request
 * sent → first byte of the answer. Run with bench/snapshot/run.sh; results in docs/performance.md
 * ("Snapshots through the node").
 */
public final class SnapshotNodeBenchmark {
    /** One program on both nodes of a pair: booted on one, restored on the other. */
    record Program(String label, TestNode booting, ItemHash booted, TestNode restoring, ItemHash restored,
                   List<Double> boots, List<Double> restores, List<Double> vmParts, List<Double> refreshes) {
        Program(String label, TestNode booting, ItemHash booted, TestNode restoring, ItemHash restored) {
            this(label, booting, booted, restoring, restored, new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>());
        }

        URI bootUrl() {
            return booting.uri("/vm/" + booted.value() + "/");
        }

        URI restoreUrl() {
            return restoring.uri("/vm/" + restored.value() + "/");
        }
    }

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args.length > 0 ? args[0] : "5");
        Path tmp = Files.createTempDirectory("kiln-snapshot-bench");
        Path python = QemuImages.runtime().image();
        Path nodejs = TestBuilds.runtime("debian-12-node").image();
        Resources resources = Resources.of(1, 256, 30);
        try (QemuLauncher launcher = QemuImages.launcher();
             TestNode pyBoot = node(tmp.resolve("py-boot"), launcher, python, false);
             TestNode pyRestore = node(tmp.resolve("py-restore"), launcher, python, true);
             TestNode jsBoot = node(tmp.resolve("js-boot"), launcher, nodejs, false);
             TestNode jsRestore = node(tmp.resolve("js-restore"), launcher, nodejs, true);
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .executor(Executors.newVirtualThreadPerTaskExecutor()).build()) {
            Path fastapi = app("fastapi");
            Path server = app("nodejs");
            List<Program> programs = List.of(
                    new Program("sample (plain ASGI)", pyBoot, pyBoot.publishSample("sample", resources).message(),
                            pyRestore, pyRestore.publishSample("sample", resources).message()),
                    new Program("FastAPI app", pyBoot,
                            pyBoot.publish(fastapi, Encoding.ZIP, "main:app", CodeInterface.ASGI, resources, "fastapi").message(),
                            pyRestore,
                            pyRestore.publish(fastapi, Encoding.ZIP, "main:app", CodeInterface.ASGI, resources, "fastapi").message()),
                    new Program("Node.js executable", jsBoot,
                            jsBoot.publish(server, Encoding.SQUASHFS, "server.js", CodeInterface.BINARY, resources, "nodejs").message(),
                            jsRestore,
                            jsRestore.publish(server, Encoding.SQUASHFS, "server.js", CodeInterface.BINARY, resources, "nodejs").message()));
            System.out.printf(Locale.ROOT, "accelerator %s, 256 MiB, 1 vCPU, %d runs per program, alternating boot/restore%n",
                    launcher.accelerator().id(), runs);
            // Unmeasured: each restoring node's first boot, which saves the snapshot; one boot each to warm caches.
            for (Program p : programs) {
                int before = snapshotCount(p.restoring());
                NodeBenchmark.nodeColdStart(p.restoring(), http, p.restored(), p.restoreUrl());
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (snapshotCount(p.restoring()) == before) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("no snapshot of " + p.label() + " was saved");
                    Thread.sleep(200);
                }
                NodeBenchmark.stopAndWait(p.restoring(), p.restored());
                NodeBenchmark.nodeColdStart(p.booting(), http, p.booted(), p.bootUrl());
                NodeBenchmark.stopAndWait(p.booting(), p.booted());
            }
            for (int i = 1; i <= runs; i++) {
                for (Program p : programs) {
                    double boot = NodeBenchmark.nodeColdStart(p.booting(), http, p.booted(), p.bootUrl());
                    NodeBenchmark.stopAndWait(p.booting(), p.booted());
                    double restore = NodeBenchmark.nodeColdStart(p.restoring(), http, p.restored(), p.restoreUrl());
                    var running = p.restoring().node.pool().running(p.restored()).orElseThrow();
                    if (running.startKind() != StartKind.RESTORE) {
                        throw new IllegalStateException(p.label() + ", run " + i + " was a " + running.startKind() + ", not a restore");
                    }
                    var parts = running.bootBreakdown();
                    NodeBenchmark.stopAndWait(p.restoring(), p.restored());
                    p.boots().add(boot);
                    p.restores().add(restore);
                    p.vmParts().add(parts.vmBoot().toNanos() / 1e6);
                    p.refreshes().add(parts.configure().toNanos() / 1e6);
                    System.out.printf(Locale.ROOT, "  run %d  %-20s boot %6.0f ms | restore %5.0f ms (QEMU+state+hello %4.0f, refresh %3.0f)%n",
                            i, p.label(), boot, restore, p.vmParts().getLast(), p.refreshes().getLast());
                }
            }
            System.out.println("medians:");
            for (Program p : programs) {
                double mb = NodeBenchmark.med(p.boots());
                double mr = NodeBenchmark.med(p.restores());
                System.out.printf(Locale.ROOT,
                        "  %-20s boot %6.0f ms, restore %5.0f ms (QEMU+state+hello %4.0f, refresh %3.0f): restore / boot = x%.3f (goal <= 0.1)%n",
                        p.label(), mb, mr, NodeBenchmark.med(p.vmParts()), NodeBenchmark.med(p.refreshes()), mr / mb);
            }
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static TestNode node(Path home, QemuLauncher launcher, Path runtime, boolean snapshots) throws Exception {
        return TestNode.start(home, launcher, runtime, QemuImages.kernel(),
                c -> snapshots ? c : c.withSnapshots(SnapshotSettings.off()));
    }

    private static Path app(String name) throws Exception {
        return Path.of(SnapshotNodeBenchmark.class.getResource("/dev/kiln/node/apps/" + name).toURI());
    }

    private static int snapshotCount(TestNode node) throws Exception {
        Path root = node.home.dir("snapshots");
        if (!Files.isDirectory(root)) return 0;
        try (var dirs = Files.list(root)) {
            return (int) dirs.filter(d -> Files.isRegularFile(d.resolve("manifest.json"))).count();
        }
    }
}
