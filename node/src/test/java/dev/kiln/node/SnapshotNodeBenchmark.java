package dev.kiln.node;

import dev.kiln.core.message.Encoding;
import dev.kiln.node.pool.StartKind;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.snapshot.SnapshotSettings;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.vm.qemu.QemuLauncher;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;

/**
 * Cold start by boot versus by restore through the node (not a test): two nodes on one launcher,
 * one with snapshots off, one on, the sample program on each; alternating runs, each an idle
 * program's request sent → first byte of the answer. Run with bench/snapshot/run.sh; results in
 * docs/performance.md ("Snapshots through the node").
 */
public final class SnapshotNodeBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args.length > 0 ? args[0] : "5");
        Path tmp = Files.createTempDirectory("kiln-snapshot-bench");
        try (QemuLauncher launcher = QemuImages.launcher();
             TestNode booting = TestNode.start(tmp.resolve("boot"), launcher, QemuImages.runtime().image(), QemuImages.kernel(),
                     c -> c.withSnapshots(SnapshotSettings.off()));
             TestNode restoring = TestNode.start(tmp.resolve("restore"), launcher, QemuImages.runtime().image(),
                     QemuImages.kernel(), c -> c);
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .executor(Executors.newVirtualThreadPerTaskExecutor()).build()) {
            PublishedProgram a = booting.publishSample(Encoding.ZIP);
            PublishedProgram b = restoring.publishSample(Encoding.ZIP);
            URI aUrl = booting.uri("/vm/" + a.message().value() + "/");
            URI bUrl = restoring.uri("/vm/" + b.message().value() + "/");
            System.out.printf(Locale.ROOT, "accelerator %s, sample program (ZIP), %d runs each, alternating%n",
                    launcher.accelerator().id(), runs);
            // Unmeasured: the restoring node's first boot, which saves the snapshot; one boot to warm caches.
            NodeBenchmark.nodeColdStart(restoring, http, b.message(), bUrl);
            Thread.sleep(15_000);
            NodeBenchmark.nodeColdStart(booting, http, a.message(), aUrl);
            List<Double> boots = new ArrayList<>();
            List<Double> restores = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                double boot = NodeBenchmark.nodeColdStart(booting, http, a.message(), aUrl);
                double restore = NodeBenchmark.nodeColdStart(restoring, http, b.message(), bUrl);
                StartKind kind = restoring.node.pool().running(b.message()).orElseThrow().startKind();
                if (kind != StartKind.RESTORE) throw new IllegalStateException("run " + i + " was a " + kind + ", not a restore");
                var parts = restoring.node.pool().running(b.message()).orElseThrow().bootBreakdown();
                boots.add(boot);
                restores.add(restore);
                System.out.printf(Locale.ROOT, "  run %d  boot %6.0f ms | restore %5.0f ms (restore %4.0f, refresh %3.0f)%n", i,
                        boot, restore, parts.vmBoot().toNanos() / 1e6, parts.configure().toNanos() / 1e6);
            }
            double mb = NodeBenchmark.med(boots);
            double mr = NodeBenchmark.med(restores);
            System.out.printf(Locale.ROOT, "  medians: boot %.0f ms, restore %.0f ms: restore / boot = x%.3f (goal <= 0.1)%n",
                    mb, mr, mr / mb);
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
