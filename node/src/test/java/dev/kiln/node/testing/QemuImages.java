package dev.kiln.node.testing;

import dev.kiln.builder.kernel.GuestKernel;
import dev.kiln.builder.kernel.KernelBuildProgress;
import dev.kiln.builder.kernel.KernelBuilder;
import dev.kiln.builder.kernel.ProgressListener;
import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.RuntimeBuildListener;
import dev.kiln.builder.runtime.RuntimeBuildProgress;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpecs;
import dev.kiln.vm.qemu.QemuLauncher;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The guest kernel and the default runtime (debian-12-python) the QEMU tests boot, from the real
 * builders, cached in the shared test Kiln home {@code ~/.cache/kiln-test} (override with
 * {@code -Dkiln.test.home=DIR}): built once per machine, not once per test run.
 */
public final class QemuImages {
    private static GuestKernel kernel;
    private static BuiltRuntime runtime;

    private QemuImages() {
    }

    public static Path kilnHome() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    public static synchronized Path kernel() throws Exception {
        if (kernel == null) kernel = new KernelBuilder(kilnHome(), new KernelProgress()).build();
        return kernel.vmlinux();
    }

    public static synchronized BuiltRuntime runtime() throws Exception {
        if (runtime == null) {
            runtime = new RuntimeBuilder(kilnHome(), new RuntimeProgress()).build(RuntimeSpecs.official("debian-12-python"));
        }
        return runtime;
    }

    /** A QEMU launcher whose run directory (and so the remembered KVM probe) is shared by the node tests. */
    public static QemuLauncher launcher() throws Exception {
        return new QemuLauncher(QemuLauncher.Options.in(kilnHome()).withKernel(kernel())
                .withCloseGrace(Duration.ofSeconds(1)));
    }

    private static final class KernelProgress implements ProgressListener {
        private int lastTenth = -1;

        @Override
        public void onProgress(KernelBuildProgress p) {
            int tenth = (int) (p.overallFraction() * 10);
            if (tenth == lastTenth) return;
            lastTenth = tenth;
            System.err.printf("[kernel build] %3d %% %s%n", Math.round(p.overallFraction() * 100), p.step());
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
    }
}
