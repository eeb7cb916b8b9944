package dev.kiln.node.testing;

import dev.kiln.network.NetnsLab;
import dev.kiln.vm.qemu.QemuCommandLine;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A launcher whose VMMs run inside a test-made network namespace, where the node's TAP devices
 * are: its QEMU binary is a wrapper that runs {@code ip netns exec NS qemu-system-x86_64 "$@"}.
 * The test JVM (and the node's HTTP side) stays in the machine's namespace.
 */
public final class NamespacedQemu {
    private NamespacedQemu() {
    }

    public static QemuLauncher launcher(NetnsLab lab, String namespace) throws Exception {
        Path qemu = lab.scratch().resolve("qemu-in-" + namespace);
        Files.writeString(qemu, "#!/bin/sh\nexec ip netns exec " + namespace + " " + QemuCommandLine.DEFAULT_BINARY
                + " \"$@\"\n");
        if (!qemu.toFile().setExecutable(true)) throw new IOException("cannot make " + qemu + " executable");
        return new QemuLauncher(QemuLauncher.Options.in(QemuImages.kilnHome())
                .withKernel(QemuImages.kernel()).withCloseGrace(Duration.ofSeconds(1)).withQemuBinary(qemu.toString()));
    }
}
