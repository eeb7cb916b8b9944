package dev.kiln.vm.qemu;

import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestRequest;
import dev.kiln.guest.GuestResponse;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.VmSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Measures boots, for docs/vm.md: the raw QEMU command ({@link QemuCommandLine}, started by hand as
 * a benchmark of the bare VMM would) against {@link QemuLauncher}, interleaved run by run so both
 * see the same machine load. Not a test; run it by hand:
 *
 * <pre>
 * mvn -q -pl vm test-compile dependency:build-classpath -Dmdep.outputFile=cp.txt -Dmdep.includeScope=test
 * java -cp "$(cat vm/cp.txt):vm/target/classes:vm/target/test-classes" dev.kiln.vm.qemu.VmBootBenchmark 7
 * </pre>
 *
 * Prints, per way of booting, the median and range of: start → agent hello, start → first HTTP
 * answer of the test program (hello + configure + request), and stop.
 */
public final class VmBootBenchmark {
    private VmBootBenchmark() {
    }

    record Run(double hello, double firstAnswer, double stop, double guestReady) {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        Path kernel = TestImages.kernel();
        Path runtime = TestImages.runtime();
        Path tmp = Files.createTempDirectory("kiln-vm-bench");
        List<Run> raw = new ArrayList<>();
        List<Run> launched = new ArrayList<>();
        try (QemuLauncher launcher = new QemuLauncher(QemuLauncher.Options.in(TestImages.kilnHome()).withKernel(kernel)
                .withConsoleLogs(tmp.resolve("logs"), 100))) {
            Accelerator accel = launcher.accelerator();
            HostTsc tsc = HostTsc.detect();
            System.out.println("accelerator: " + launcher.acceleratorChoice() + "; TSC " + tsc);
            for (int i = 0; i < runs; i++) {
                raw.add(raw(new VmSpec("raw", kernel, runtime, "squashfs", List.of(), 256, 1, List.of(),
                        tmp.resolve("raw-" + i), Duration.ofSeconds(60)), accel, tsc));
                launched.add(launched(launcher, new VmSpec("bench", kernel, runtime, "squashfs", List.of(), 256, 1, List.of(),
                        tmp.resolve("launched-" + i), Duration.ofSeconds(60))));
                System.out.printf(Locale.ROOT, "run %d: raw %s | launcher %s%n", i + 1, raw.getLast(), launched.getLast());
            }
        }
        report("raw QEMU command   ", raw);
        report("QemuLauncher       ", launched);
    }

    private static Run raw(VmSpec spec, Accelerator accel, HostTsc tsc) throws Exception {
        Files.createDirectories(spec.workDir());
        VmFiles files = VmFiles.in(spec.workDir());
        QemuCommandLine cmd = QemuCommandLine.of(spec, accel, tsc, files);
        long t0 = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd.command()).directory(spec.workDir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            GuestConnection guest = null;
            while (guest == null) {
                if (!qemu.isAlive()) throw new IllegalStateException("QEMU exited: " + Files.readString(files.consoleLog()));
                try {
                    if (Files.exists(files.guestSocket())) guest = GuestConnection.connect(files.guestSocket(), GuestConnection.Options.defaults());
                } catch (IOException e) {
                    // not listening yet
                }
                if (guest == null) Thread.sleep(5);
            }
            long hello = System.nanoTime();
            double guestReady = guest.hello().boot().init1Ready();
            long answer = firstAnswer(guest);
            long s0 = System.nanoTime();
            guest.halt(Duration.ofSeconds(1), Duration.ofSeconds(5));
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) qemu.destroyForcibly();
            long s1 = System.nanoTime();
            return new Run(ms(t0, hello), ms(t0, answer), ms(s0, s1), guestReady * 1000);
        } finally {
            qemu.destroyForcibly();
            qemu.waitFor();
        }
    }

    private static Run launched(QemuLauncher launcher, VmSpec spec) throws Exception {
        long t0 = System.nanoTime();
        QemuVm vm = launcher.launch(spec);
        long hello = System.nanoTime();
        double guestReady = vm.guest().hello().boot().init1Ready();
        long answer = firstAnswer(vm.guest());
        long s0 = System.nanoTime();
        vm.stop(Duration.ofSeconds(1));
        long s1 = System.nanoTime();
        return new Run(ms(t0, hello), ms(t0, answer), ms(s0, s1), guestReady * 1000);
    }

    private static long firstAnswer(GuestConnection guest) throws IOException {
        guest.configure(VmTests.helloProgram("bench"));
        try (GuestResponse r = guest.request(GuestRequest.get("/").withTimeout(Duration.ofSeconds(20)))) {
            if (r.status() != 200) throw new IllegalStateException("status " + r.status());
            r.readAllBytes();
        }
        return System.nanoTime();
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    private static void report(String label, List<Run> runs) {
        System.out.printf(Locale.ROOT, "%s hello %s   first answer %s   stop %s   (guest clock at init1 ready %s)%n", label,
                stats(runs.stream().map(Run::hello).toList()), stats(runs.stream().map(Run::firstAnswer).toList()),
                stats(runs.stream().map(Run::stop).toList()), stats(runs.stream().map(Run::guestReady).toList()));
    }

    private static String stats(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        return String.format(Locale.ROOT, "median %.0f ms [%.0f–%.0f]", v.get(v.size() / 2), v.getFirst(), v.getLast());
    }
}
