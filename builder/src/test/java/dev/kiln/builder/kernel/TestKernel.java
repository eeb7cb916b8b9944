package dev.kiln.builder.kernel;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The one guest kernel the test suite boots, built on first use and then reused from a fixed
 * cache that outlives the build directory: {@code ~/.cache/kiln-test/kernels} (override with
 * {@code -Dkiln.test.home=<dir>}). A machine therefore pays the ≈ 6-minute build once, not once
 * per {@code mvn test}; a new source package or fragment makes a new entry.
 */
final class TestKernel {

    private static GuestKernel kernel;

    private TestKernel() {
    }

    static Path kilnHome() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    static synchronized GuestKernel get() throws KernelBuildException, InterruptedException {
        if (kernel == null) kernel = new KernelBuilder(kilnHome(), new LogEveryTenth()).build();
        return kernel;
    }

    /** A first build takes minutes: say where it is in the test output now and then. */
    private static final class LogEveryTenth implements ProgressListener {
        private int lastTenth = -1;

        @Override
        public void onProgress(KernelBuildProgress p) {
            int tenth = (int) (p.overallFraction() * 10);
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            System.err.printf("[kernel build] %3d %% %s (%d/%d) %s%n",
                    Math.round(p.overallFraction() * 100), p.step(), p.stepNumber(), p.stepCount(), p.message());
        }

        @Override
        public void onStepFinished(String step, Duration took) {
            System.err.printf("[kernel build] %s took %s%n", step, StepRunner.seconds(took));
        }
    }
}
