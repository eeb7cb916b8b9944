package dev.kiln.vm.qemu;

import dev.kiln.vm.VmSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A stand-in for the node, run in a child JVM by {@link OrphanTest}: boots one VM, prints
 * {@code QEMU-PID <pid>}, then either waits to be killed ({@code wait}) or exits at once without
 * closing its launcher ({@code exit}).
 *
 * <p>Arguments: mode, kernel, runtime image, run directory, work directory, death signal (true/false).
 */
public final class OrphanProbeMain {
    private OrphanProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path kernel = Path.of(args[1]);
        Path runtime = Path.of(args[2]);
        Path runDirectory = Path.of(args[3]);
        Path workDir = Path.of(args[4]);
        boolean deathSignal = Boolean.parseBoolean(args[5]);
        QemuLauncher.Options options = new QemuLauncher.Options(runDirectory, null, 10, kernel, null, null, null, null, null);
        // Deliberately never closed: what happens to the VM is up to the guards under test.
        QemuLauncher launcher = new QemuLauncher(options, new VmmSpawner(deathSignal));
        QemuVm vm = launcher.launch(new VmSpec("orphan", kernel, runtime, "squashfs", List.of(), 256, 1, List.of(), workDir,
                Duration.ofSeconds(60)));
        System.out.println("QEMU-PID " + vm.pid());
        System.out.flush();
        if (mode.equals("exit")) System.exit(0);
        Thread.sleep(Duration.ofMinutes(5));
        System.exit(3);
    }
}
