package dev.kiln.node;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestRequest;
import dev.kiln.guest.GuestResponse;
import dev.kiln.guest.bench.ClosedLoop;
import dev.kiln.node.pool.VmPlan;
import dev.kiln.node.pool.VmPlanner;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.store.ItemResolver;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.qemu.HostTsc;
import dev.kiln.vm.qemu.QemuCommandLine;
import dev.kiln.vm.qemu.QemuLauncher;
import dev.kiln.vm.qemu.VmFiles;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The node benchmark (not a test), in one run on one kernel, runtime and accelerator:
 * <ol>
 *   <li>cold start: the sample program booted by hand — the very QEMU command the node would run
 *       ({@link QemuCommandLine}), then the guest channel, configure, first request — versus the
 *       node's cold start (idle program → first byte of the HTTP answer);</li>
 *   <li>warm requests at a fixed concurrency through the node (HTTP) versus directly to a guest
 *       over its channel, same program in the same kind of VM;</li>
 *   <li>N distinct programs requested at once versus N × one cold start.</li>
 * </ol>
 * Runs alternate between the two sides; medians are printed. Run with bench/node/run.sh; results
 * are recorded in docs/performance.md.
 */
public final class NodeBenchmark {
    private static final int WARMUP_SECONDS = Integer.getInteger("kiln.bench.warmup", 10);

    /** @param cpuUsPerRequest this JVM's CPU time (client and, via the node, the node) per request */
    record Run(double rps, double p50Ms, double p99Ms, double cpuUsPerRequest) {
    }

    public static void main(String[] args) throws Exception {
        int coldRuns = Integer.parseInt(args.length > 0 ? args[0] : "5");
        int concurrency = Integer.parseInt(args.length > 1 ? args[1] : "8");
        int warmSeconds = Integer.parseInt(args.length > 2 ? args[2] : "5");
        int warmRuns = Integer.parseInt(args.length > 3 ? args[3] : "3");
        int programs = Integer.parseInt(args.length > 4 ? args[4] : "4");
        int parallelRuns = Integer.parseInt(args.length > 5 ? args[5] : "3");
        Path tmp = Files.createTempDirectory("kiln-node-bench");
        List<Process> raws = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> raws.forEach(Process::destroyForcibly)));
        try (QemuLauncher launcher = QemuImages.launcher();
             TestNode node = TestNode.start(tmp.resolve("home"), launcher, QemuImages.runtime().image(), QemuImages.kernel(),
                     c -> c.withMemoryBudgetMiB(8192));
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                     .executor(Executors.newVirtualThreadPerTaskExecutor()).build()) {
            Accelerator accel = launcher.accelerator();
            PublishedProgram sample = node.publishSample(Encoding.ZIP);
            ResolvedProgram resolved = new ProgramResolver(node.nodeRecords.programs(),
                    new ItemResolver(node.blobs, node.storeRecords, node.fetcher), node.fetcher).resolve(sample.message());
            VmPlanner planner = new VmPlanner(QemuImages.kernel(), Duration.ofSeconds(60));
            HostTsc tsc = accel == Accelerator.TCG ? HostTsc.detect() : null;
            System.out.printf(Locale.ROOT, "accelerator %s, kernel %s, runtime %s (%d MiB), sample program %s%n", accel.id(),
                    QemuImages.kernel(), QemuImages.runtime().image().getFileName(),
                    Files.size(QemuImages.runtime().image()) >> 20, sample.message().shortForm());
            URI sampleRoot = node.uri("/vm/" + sample.message().value() + "/");

            // ---------------------------------------------------------------- 1. cold start
            System.out.printf("%n1. cold start: boot-to-first-answer, raw QEMU vs node (%d runs each, alternating)%n", coldRuns);
            // One of each first, unmeasured: caches (page cache, JIT, blob verification) warm up.
            rawColdStart(planner, resolved, accel, tsc, tmp.resolve("raw-warmup"), raws).close();
            nodeColdStart(node, http, sample.message(), sampleRoot);
            List<Double> raw = new ArrayList<>();
            List<Double> viaNode = new ArrayList<>();
            List<Double> rawOwn = new ArrayList<>();
            List<Double> nodeOwn = new ArrayList<>();
            for (int i = 1; i <= coldRuns; i++) {
                RawVm r = rawColdStart(planner, resolved, accel, tsc, tmp.resolve("raw-" + i), raws);
                r.close();
                double n = nodeColdStart(node, http, sample.message(), sampleRoot);
                var parts = node.node.pool().running(sample.message()).orElseThrow().bootBreakdown();
                double vmBoot = parts.vmBoot().toNanos() / 1e6;
                double configure = parts.configure().toNanos() / 1e6;
                raw.add(r.firstAnswerMs);
                viaNode.add(n);
                // Outside the guest: everything but the boot to hello and the configure.
                rawOwn.add(r.firstAnswerMs - r.helloMs - r.configureMs);
                nodeOwn.add(n - vmBoot - configure);
                System.out.printf(Locale.ROOT, "  run %d  raw %6.0f ms (hello %5.0f, configure %5.0f, rest %4.0f)"
                                + " | node %6.0f ms (resolve %3.0f, hello %5.0f, configure %5.0f, rest %4.0f)%n",
                        i, r.firstAnswerMs, r.helloMs, r.configureMs, r.firstAnswerMs - r.helloMs - r.configureMs,
                        n, parts.resolve().toNanos() / 1e6, vmBoot, configure, n - vmBoot - configure);
            }
            double rawMedian = coldRuns == 0 ? Double.NaN : med(raw);
            double nodeMedian = coldRuns == 0 ? Double.NaN : med(viaNode);
            if (coldRuns > 0) System.out.printf(Locale.ROOT, "  medians: raw %.0f ms, node %.0f ms, node / raw = x%.2f (goal <= 1.10)%n",
                    rawMedian, nodeMedian, nodeMedian / rawMedian);
            if (coldRuns > 0) System.out.printf(Locale.ROOT, "  outside the guest (start -> first byte minus boot to hello and configure):"
                    + " raw %.0f ms, node %.0f ms: the node adds %.0f ms%n", med(rawOwn), med(nodeOwn), med(nodeOwn) - med(rawOwn));

            // ---------------------------------------------------------------- 2. warm requests
            System.out.printf("%n2. warm requests, concurrency %d, %d runs of %d s (alternating)%n", concurrency, warmRuns, warmSeconds);
            RawVm direct = rawColdStart(planner, resolved, accel, tsc, tmp.resolve("raw-warm"), raws);
            try {
                // A minimal keep-alive HTTP/1.1 client per worker: the JDK's client would cost the
                // 2-core host more CPU than the node itself, and QEMU's vCPU needs one core.
                String pingPath = "/vm/" + sample.message().value() + "/ping";
                ThreadLocal<KeepAliveClient> clients = ThreadLocal.withInitial(() -> new KeepAliveClient(node.node.port()));
                Supplier<Integer> nodeCall = () -> clients.get().get(pingPath);
                Supplier<Integer> directCall = () -> {
                    GuestResponse r = direct.guest.request(GuestRequest.get("/ping"));
                    r.readAllBytes();
                    return r.status();
                };
                // Unmeasured warm-up, long enough for C2 to compile the node's request path: with 2 s
                // the first measured runs still ran partly interpreted (node CPU per request fell
                // from ~1 000 to ~250 µs across five runs), and a node is a long-running process.
                measure(nodeCall, concurrency, WARMUP_SECONDS);
                measure(directCall, concurrency, WARMUP_SECONDS);
                List<Run> nodeRuns = new ArrayList<>();
                List<Run> directRuns = new ArrayList<>();
                for (int i = 1; i <= warmRuns; i++) {
                    Run n = measure(nodeCall, concurrency, warmSeconds);
                    Run d = measure(directCall, concurrency, warmSeconds);
                    nodeRuns.add(n);
                    directRuns.add(d);
                    System.out.printf(Locale.ROOT, "  run %d  node %5.0f req/s p50 %6.2f ms p99 %6.2f ms cpu %4.0f us"
                                    + " | direct %5.0f req/s p50 %6.2f ms p99 %6.2f ms cpu %4.0f us%n",
                            i, n.rps(), n.p50Ms(), n.p99Ms(), n.cpuUsPerRequest(), d.rps(), d.p50Ms(), d.p99Ms(), d.cpuUsPerRequest());
                }
                Run mn = median(nodeRuns);
                Run md = median(directRuns);
                System.out.printf(Locale.ROOT, "  medians: node %.0f req/s p50 %.2f ms p99 %.2f ms | direct %.0f req/s p50 %.2f ms p99 %.2f ms%n",
                        mn.rps(), mn.p50Ms(), mn.p99Ms(), md.rps(), md.p50Ms(), md.p99Ms());
                System.out.printf(Locale.ROOT, "  host JVM CPU per request (client included): node %.0f us, direct %.0f us%n",
                        mn.cpuUsPerRequest(), md.cpuUsPerRequest());
                System.out.printf(Locale.ROOT, "  node / direct: throughput x%.2f (goal >= 0.8), p50 x%.2f, p99 x%.2f (goal <= 1.2)%n",
                        mn.rps() / md.rps(), mn.p50Ms() / md.p50Ms(), mn.p99Ms() / md.p99Ms());
            } finally {
                direct.close();
            }

            // ---------------------------------------------------------------- 3. N programs at once
            if (parallelRuns == 0) return;
            System.out.printf("%n3. %d distinct programs requested at once (%d runs)%n", programs, parallelRuns);
            List<PublishedProgram> distinct = new ArrayList<>();
            for (int i = 0; i < programs; i++) distinct.add(node.publishSample("bench-" + i, Resources.of(1, 128, 300)));
            List<Double> totals = new ArrayList<>();
            for (int run = 1; run <= parallelRuns; run++) {
                for (PublishedProgram p : distinct) stopAndWait(node, p.message());
                long start = System.nanoTime();
                try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<Future<Integer>> answers = new ArrayList<>();
                    for (PublishedProgram p : distinct) {
                        HttpRequest req = HttpRequest.newBuilder(node.uri("/vm/" + p.message().value() + "/ping"))
                                .timeout(Duration.ofSeconds(180)).build();
                        answers.add(clients.submit(() -> http.send(req, HttpResponse.BodyHandlers.ofString()).statusCode()));
                    }
                    for (Future<Integer> a : answers) {
                        if (a.get() != 200) throw new IllegalStateException("a program answered " + a.get());
                    }
                }
                double total = (System.nanoTime() - start) / 1e6;
                totals.add(total);
                System.out.printf(Locale.ROOT, "  run %d  all %d answered after %.0f ms%n", run, programs, total);
            }
            for (PublishedProgram p : distinct) stopAndWait(node, p.message());
            double mt = med(totals);
            System.out.printf(Locale.ROOT, "  median %.0f ms vs %d x single node cold start (%.0f ms) = %.0f ms: x%.2f"
                    + " (%d cores: boots are CPU-bound under TCG)%n", mt, programs, nodeMedian, programs * nodeMedian,
                    mt / (programs * nodeMedian), Runtime.getRuntime().availableProcessors());
        } finally {
            raws.forEach(Process::destroyForcibly);
            try (var files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** A VM booted by hand; {@link #close} halts it and kills QEMU. */
    static final class RawVm implements AutoCloseable {
        final Process qemu;
        final GuestConnection guest;
        final double helloMs;
        final double configureMs;
        final double firstAnswerMs;

        RawVm(Process qemu, GuestConnection guest, double helloMs, double configureMs, double firstAnswerMs) {
            this.qemu = qemu;
            this.guest = guest;
            this.helloMs = helloMs;
            this.configureMs = configureMs;
            this.firstAnswerMs = firstAnswerMs;
        }

        @Override
        public void close() {
            try {
                guest.halt(Duration.ofSeconds(1), Duration.ofSeconds(3));
            } catch (RuntimeException ignored) {
                // killed below either way
            }
            try {
                if (!qemu.waitFor(3, TimeUnit.SECONDS)) qemu.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                qemu.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Boots the sample with the node's own command line, without the node; times the first answer. */
    static RawVm rawColdStart(VmPlanner planner, ResolvedProgram program, Accelerator accel, HostTsc tsc, Path dir,
                              List<Process> raws) throws Exception {
        Files.createDirectories(dir);
        VmPlan plan = planner.plan(program, "raw-" + dir.getFileName(), dir);
        VmFiles files = VmFiles.in(dir);
        QemuCommandLine cmd = QemuCommandLine.of(plan.spec(), accel, tsc, files);
        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd.command()).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("vmm.log").toFile()).start();
        raws.add(qemu);
        GuestConnection guest = null;
        long deadline = start + Duration.ofSeconds(60).toNanos();
        while (guest == null) {
            if (!qemu.isAlive()) throw new IllegalStateException("QEMU exited: " + Files.readString(dir.resolve("vmm.log")));
            if (System.nanoTime() > deadline) throw new IllegalStateException("no guest hello within 60 s");
            if (Files.exists(files.guestSocket())) {
                try {
                    guest = GuestConnection.connect(files.guestSocket(), GuestConnection.Options.defaults()
                            .withHelloTimeout(Duration.ofSeconds(60)).withLogSink(l -> { }));
                } catch (IOException notYet) {
                    // QEMU has created the socket file but is not listening yet
                }
            }
            if (guest == null) Thread.sleep(2);
        }
        long hello = System.nanoTime();
        guest.configure(plan.config());
        long configured = System.nanoTime();
        GuestResponse r = guest.request(GuestRequest.get("/"));
        long firstAnswer = System.nanoTime();
        r.readAllBytes();
        if (r.status() != 200) throw new IllegalStateException("the raw VM answered " + r.status());
        return new RawVm(qemu, guest, (hello - start) / 1e6, (configured - hello) / 1e6, (firstAnswer - start) / 1e6);
    }

    /** Stops the program's VM if up, then times a request from nothing running to the first byte. */
    static double nodeColdStart(TestNode node, HttpClient http, ItemHash program, URI url) throws Exception {
        stopAndWait(node, program);
        long start = System.nanoTime();
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(120)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        long head = System.nanoTime();
        try (InputStream in = r.body()) {
            in.readAllBytes();
        }
        if (r.statusCode() != 200) throw new IllegalStateException("the node answered " + r.statusCode());
        return (head - start) / 1e6;
    }

    static void stopAndWait(TestNode node, ItemHash program) throws InterruptedException {
        node.node.pool().stop(program, "benchmark: cold start next");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (node.node.pool().executions().stream().anyMatch(v -> v.program().equals(program))) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("the VM of " + program + " did not stop");
            Thread.sleep(20);
        }
    }

    /** HTTP/1.1 GET over one persistent connection, reading Content-Length bodies. Not thread-safe. */
    static final class KeepAliveClient {
        private final int port;
        private Socket socket;
        private BufferedInputStream in;
        private OutputStream out;

        KeepAliveClient(int port) {
            this.port = port;
        }

        int get(String path) {
            try {
                if (socket == null) {
                    socket = new Socket("127.0.0.1", port);
                    socket.setTcpNoDelay(true);
                    in = new BufferedInputStream(socket.getInputStream(), 16384);
                    out = socket.getOutputStream();
                }
                out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String status = line();
                int code = Integer.parseInt(status.substring(9, 12));
                int length = 0;
                for (String h = line(); !h.isEmpty(); h = line()) {
                    if (h.regionMatches(true, 0, "content-length:", 0, 15)) length = Integer.parseInt(h.substring(15).strip());
                }
                if (in.readNBytes(length).length != length) throw new EOFException("short body");
                return code;
            } catch (IOException e) {
                socket = null;
                throw new UncheckedIOException(e);
            }
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) throw new EOFException("connection closed");
                if (c != '\r') b.append((char) c);
            }
            return b.toString();
        }
    }

    static Run measure(Supplier<Integer> call, int concurrency, int seconds) throws Exception {
        long cpuBefore = cpuNanos();
        ClosedLoop.Result r = ClosedLoop.run(call, concurrency, seconds);
        long cpu = cpuNanos() - cpuBefore;
        return new Run(r.rps(), r.p50Ms(), r.p99Ms(), cpu / 1e3 / r.requests());
    }

    private static long cpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    static Run median(List<Run> runs) {
        return new Run(med(runs.stream().map(Run::rps).toList()), med(runs.stream().map(Run::p50Ms).toList()),
                med(runs.stream().map(Run::p99Ms).toList()), med(runs.stream().map(Run::cpuUsPerRequest).toList()));
    }

    static double med(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
