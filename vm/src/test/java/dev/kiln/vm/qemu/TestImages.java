package dev.kiln.vm.qemu;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.kernel.KernelBuildProgress;
import dev.kiln.builder.kernel.KernelBuilder;
import dev.kiln.builder.kernel.ProgressListener;
import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.RuntimeBuildListener;
import dev.kiln.builder.runtime.RuntimeBuildProgress;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpecs;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The guest kernel and the runtime image the VM tests boot, from the real builders, cached in the
 * test Kiln home {@code ~/.cache/kiln-test} (override with {@code -Dkiln.test.home=DIR}) so a
 * machine builds them once (≈ 5.5 min kernel, ≈ 1 min runtime), not once per test run.
 */
final class TestImages {
    private static GuestKernel kernel;
    private static BuiltRuntime runtime;

    private TestImages() {
    }

    static Path kilnHome() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    static synchronized Path kernel() throws Exception {
        if (kernel == null) kernel = new KernelBuilder(kilnHome(), new KernelProgress()).build();
        return kernel.vmlinux();
    }

    /** The official "minimal" runtime: python3-minimal and Kiln's init, squashfs. */
    static synchronized Path runtime() throws Exception {
        if (runtime == null) runtime = new RuntimeBuilder(kilnHome(), new RuntimeProgress()).build(RuntimeSpecs.official("minimal"));
        return runtime.image();
    }

    /** A first build takes minutes: say where it is in the test output now and then. */
    private static final class KernelProgress implements ProgressListener {
        private int lastTenth = -1;

        @Override
        public void onProgress(KernelBuildProgress p) {
            int tenth = (int) (p.overallFraction() * 10);
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            System.err.printf("[kernel build] %3d %% %s%n", Math.round(p.overallFraction() * 100), p.step());
        }

        @Override
        public void onStepFinished(String step, Duration took) {
            System.err.printf("[kernel build] %s took %d s%n", step, took.toSeconds());
        }
    }

    private static final class RuntimeProgress implements RuntimeBuildListener {
        private int lastTenth = -1;

        @Override
        public void onProgress(RuntimeBuildProgress p) {
            int tenth = (int) (p.overallFraction() * 10);
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            System.err.printf("[runtime build] %3d %% %s%n", Math.round(p.overallFraction() * 100), p.step());
        }

        @Override
        public void onStepFinished(String step, Duration took) {
            System.err.printf("[runtime build] %s took %d s%n", step, took.toSeconds());
        }
    }
}
