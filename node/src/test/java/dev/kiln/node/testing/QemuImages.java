package dev.kiln.node.testing;

import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.vm.qemu.QemuLauncher;

import java.nio.file.Path;
import java.time.Duration;

/** What the node's QEMU tests boot: the suite's guest kernel and the default runtime (see {@link TestBuilds}). */
public final class QemuImages {
    private QemuImages() {
    }

    public static Path kilnHome() {
        return TestBuilds.kilnHome();
    }

    public static Path kernel() throws Exception {
        return TestBuilds.kernel().vmlinux();
    }

    public static BuiltRuntime runtime() throws Exception {
        return TestBuilds.runtime("debian-12-python");
    }

    /** A QEMU launcher whose run directory (and so the remembered KVM probe) is shared by the node tests. */
    public static QemuLauncher launcher() throws Exception {
        return new QemuLauncher(QemuLauncher.Options.in(kilnHome()).withKernel(kernel())
                .withCloseGrace(Duration.ofSeconds(1)));
    }
}
