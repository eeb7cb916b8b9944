package dev.kiln.builder.testing;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Starts the guest kernel's build as a test JVM opens its launcher session (registered in
 * META-INF/services, and shipped with the test jar to the modules that boot VMs). From an empty
 * cache the kernel is the suite's longest build; started here it runs beside the image builds,
 * which wait on the network and the disk, instead of after them. When the JVM ends first (a run
 * of a few tests that need no kernel), the build is interrupted and its workspace is removed by
 * the next build of the same key.
 */
public final class KernelAhead implements LauncherSessionListener {
    private Thread build;

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        if (Boolean.getBoolean("kiln.test.noKernelAhead")) return;
        build = TestBuilds.buildKernelInBackground();
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        if (build == null || !build.isAlive()) return;
        build.interrupt(); // the compile's process tree is ended by ExternalCommand
        try {
            build.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
