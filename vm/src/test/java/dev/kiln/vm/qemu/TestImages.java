package dev.kiln.vm.qemu;

import dev.kiln.builder.testing.TestBuilds;

import java.nio.file.Path;

/** What the VM tests boot: the suite's guest kernel and the official "minimal" runtime (see {@link TestBuilds}). */
final class TestImages {
    private TestImages() {
    }

    static Path kilnHome() {
        return TestBuilds.kilnHome();
    }

    static Path kernel() throws Exception {
        return TestBuilds.kernel().vmlinux();
    }

    /** python3-minimal and Kiln's init, squashfs: the smallest image that still answers the handshake. */
    static Path runtime() throws Exception {
        return TestBuilds.runtime("minimal").image();
    }
}
