package dev.kiln.builder.testing;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.kernel.KernelBuildException;
import dev.kiln.builder.kernel.KernelBuilder;
import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpecs;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.BuildProgress;
import dev.kiln.builder.step.StepRunner;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The guest kernel and official runtime images that the builder, VM and node tests boot, from the
 * real builders, kept in one test Kiln home, {@code ~/.cache/kiln-test} (override with
 * {@code -Dkiln.test.home=DIR}). It outlives build directories and clean clones, so a machine pays
 * for the kernel (≈ 7 min) and each image (≈ 1 min) once, not once per test run. Shipped to the
 * other modules as builder's test jar.
 */
public final class TestBuilds {
    private static GuestKernel kernel;
    private static final Object KERNEL_LOCK = new Object(); // not the class's: an image build must not wait for the kernel
    private static final Map<String, BuiltRuntime> RUNTIMES = new HashMap<>();

    private TestBuilds() {
    }

    public static Path kilnHome() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    public static GuestKernel kernel() throws KernelBuildException, InterruptedException {
        synchronized (KERNEL_LOCK) {
            if (kernel == null) kernel = new KernelBuilder(kilnHome(), new KernelLog()).build();
            return kernel;
        }
    }

    /**
     * Builds the kernel on a background thread (a no-op once it is cached): {@link KernelAhead}
     * calls it as a test JVM starts, so that the compile (≈ 7 min of CPU, at nice 10) fills the
     * time the image builds spend downloading and unpacking packages. A failure here is not
     * reported: the first test that needs the kernel builds it again and fails with the reason.
     */
    static Thread buildKernelInBackground() {
        Thread t = new Thread(() -> {
            try {
                kernel();
            } catch (KernelBuildException | RuntimeException e) {
                System.err.println("[kernel build] in the background: " + e.getMessage() + " (retried by the first test that needs it)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "kernel-ahead");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** An official runtime by spec name (e.g. "minimal", "debian-12-python"), built on first use. */
    public static synchronized BuiltRuntime runtime(String officialName) throws Exception {
        BuiltRuntime built = RUNTIMES.get(officialName);
        if (built == null) {
            built = new RuntimeBuilder(kilnHome(), printing("runtime build " + officialName)).build(RuntimeSpecs.official(officialName));
            RUNTIMES.put(officialName, built);
        }
        return built;
    }

    /** A listener that prints a line per step to the test output: first builds take minutes. */
    public static BuildListener printing(String label) {
        return new BuildListener() {
            private String lastStep = "";

            @Override
            public void onProgress(BuildProgress p) {
                if (p.step().equals(lastStep)) return;
                lastStep = p.step();
                System.err.printf("[%s] %3d %% %s (%d/%d) %s%n", label, Math.round(p.overallFraction() * 100), p.step(),
                        p.stepNumber(), p.stepCount(), p.message());
            }

            @Override
            public void onStepFinished(String step, Duration took) {
                System.err.printf("[%s] %s took %s%n", label, step, StepRunner.seconds(took));
            }
        };
    }

    /** The kernel build's progress, a line every tenth. */
    private static final class KernelLog implements BuildListener {
        private int lastTenth = -1;

        @Override
        public void onProgress(BuildProgress p) {
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
