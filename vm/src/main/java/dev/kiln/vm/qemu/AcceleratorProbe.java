package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Decides between KVM and TCG. {@code KILN_ACCEL=tcg|kvm} forces one; otherwise KVM is used only
 * if a real guest boots under it: a usable {@code /dev/kvm} is not enough (on this project's
 * build hosts it is PVM, paravirtualised nested KVM, under which stock guests die at once with
 * "KVM internal error … emulation failure" while QEMU hangs).
 *
 * <p>The probe boots the guest kernel without a root device: a kernel that works under KVM runs
 * its whole initialisation in well under a second and panics on the missing root ("Kernel
 * panic"), which proves KVM runs it. Anything else — QEMU reporting a KVM error, exiting, or no
 * panic within {@link #PROBE_TIMEOUT} — means TCG.
 *
 * <p>The result is kept for the life of the process and, in the run directory, for the current
 * boot of the host ({@code /proc/sys/kernel/random/boot_id}) and QEMU binary: the probe costs up
 * to {@link #PROBE_TIMEOUT} on hosts where KVM fails, and whether KVM works does not change
 * while the host runs.
 */
final class AcceleratorProbe {
    private static final System.Logger LOG = System.getLogger(AcceleratorProbe.class.getName());
    static final String ENV = "KILN_ACCEL";
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
    private static final Path KVM_DEVICE = Path.of("/dev/kvm");
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final String CACHE_FILE = "accelerator.properties";
    private static final ConcurrentHashMap<String, AcceleratorChoice> PROBED = new ConcurrentHashMap<>();

    private AcceleratorProbe() {
    }

    /**
     * The accelerator to use.
     *
     * @param forced "tcg", "kvm", "auto" or null (then {@code KILN_ACCEL} decides, and without it the probe)
     * @throws IllegalArgumentException if the forced value is none of those
     */
    static AcceleratorChoice choose(String forced, String qemuBinary, Path kernel, Path runDirectory, VmmSpawner spawner)
            throws InterruptedException {
        String source = forced != null ? "the launcher's options" : ENV;
        String value = forced != null ? forced : System.getenv(ENV);
        if (value != null && !value.isBlank()) {
            switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "tcg" -> {
                    return new AcceleratorChoice(Accelerator.TCG, "forced by " + source);
                }
                case "kvm" -> {
                    return new AcceleratorChoice(Accelerator.KVM, "forced by " + source);
                }
                case "auto" -> { }
                default -> throw new IllegalArgumentException(ENV + " must be tcg, kvm or auto; got '" + value + "'");
            }
        }
        AcceleratorChoice choice = PROBED.get(qemuBinary);
        if (choice != null) return choice;
        synchronized (PROBED) {
            choice = PROBED.get(qemuBinary);
            if (choice != null) return choice;
            choice = cached(qemuBinary, runDirectory);
            if (choice == null) {
                choice = probe(qemuBinary, kernel, spawner);
                store(qemuBinary, runDirectory, choice);
            }
            LOG.log(System.Logger.Level.INFO, "VM accelerator: " + choice);
            PROBED.put(qemuBinary, choice);
            return choice;
        }
    }

    /** Probes now, ignoring every cache. */
    static AcceleratorChoice probe(String qemuBinary, Path kernel, VmmSpawner spawner) throws InterruptedException {
        if (!Files.exists(KVM_DEVICE)) return new AcceleratorChoice(Accelerator.TCG, "no /dev/kvm on this host");
        if (!Files.isReadable(KVM_DEVICE) || !Files.isWritable(KVM_DEVICE)) {
            return new AcceleratorChoice(Accelerator.TCG, "/dev/kvm is not accessible to this user (add it to the kvm group)");
        }
        if (kernel == null || !Files.isRegularFile(kernel)) {
            return new AcceleratorChoice(Accelerator.TCG, "no guest kernel to probe KVM with");
        }
        Path dir = null;
        Process qemu = null;
        long start = System.nanoTime();
        try {
            dir = Files.createTempDirectory("kiln-kvm-probe");
            Path console = dir.resolve("console.log");
            Path output = dir.resolve("vmm.log");
            List<String> command = List.of(qemuBinary, "-accel", "kvm", "-cpu", "host", "-machine", "microvm",
                    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-m", "128", "-smp", "1",
                    "-kernel", kernel.toAbsolutePath().toString(),
                    "-append", "console=ttyS0 panic=-1 root=/dev/kiln-probe-none",
                    "-chardev", "file,id=console,path=" + QemuCommandLine.escape(console.toString()), "-serial", "chardev:console");
            qemu = spawner.start(new ProcessBuilder(command).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true).redirectOutput(output.toFile()));
            long deadline = start + PROBE_TIMEOUT.toNanos();
            while (true) {
                String out = ConsoleLog.readSmall(output, 4096);
                String con = ConsoleLog.readSmall(console, 256 * 1024);
                if (con.contains("Kernel panic")) {
                    return new AcceleratorChoice(Accelerator.KVM, "KVM probe: a guest kernel booted under KVM in "
                            + millis(start) + " ms");
                }
                if (out.contains("KVM internal error") || out.contains("emulation failure")) {
                    return new AcceleratorChoice(Accelerator.TCG, "KVM probe: the guest crashed under KVM ("
                            + firstLine(out) + "); /dev/kvm here is probably nested or paravirtualised (PVM)");
                }
                if (!qemu.isAlive()) {
                    return new AcceleratorChoice(Accelerator.TCG, "KVM probe: QEMU exited with status " + qemu.exitValue()
                            + (out.isBlank() ? "" : " (" + firstLine(out) + ")"));
                }
                if (System.nanoTime() > deadline) {
                    return new AcceleratorChoice(Accelerator.TCG, "KVM probe: the guest kernel did not boot under KVM within "
                            + PROBE_TIMEOUT.toSeconds() + " s (a working KVM boots it in well under a second)"
                            + (out.isBlank() ? "" : "; QEMU said: " + firstLine(out)));
                }
                Thread.sleep(20);
            }
        } catch (IOException e) {
            return new AcceleratorChoice(Accelerator.TCG, "KVM probe could not run QEMU: " + e.getMessage());
        } finally {
            if (qemu != null) {
                qemu.destroyForcibly();
                try {
                    qemu.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            deleteTree(dir);
        }
    }

    private static AcceleratorChoice cached(String qemuBinary, Path runDirectory) {
        if (runDirectory == null) return null;
        Path file = runDirectory.resolve(CACHE_FILE);
        if (!Files.isRegularFile(file)) return null;
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file)));
            if (!cacheKey(qemuBinary).equals(p.getProperty("key"))) return null;
            Accelerator a = Accelerator.valueOf(p.getProperty("accelerator"));
            return new AcceleratorChoice(a, p.getProperty("reason", "") + " (probed " + p.getProperty("probed", "earlier")
                    + ", remembered for this boot of the host)");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static void store(String qemuBinary, Path runDirectory, AcceleratorChoice choice) {
        if (runDirectory == null) return;
        try {
            Files.createDirectories(runDirectory);
            Properties p = new Properties();
            p.setProperty("key", cacheKey(qemuBinary));
            p.setProperty("accelerator", choice.accelerator().name());
            p.setProperty("reason", choice.reason());
            p.setProperty("probed", Instant.now().toString());
            Path tmp = runDirectory.resolve("." + CACHE_FILE + ".tmp");
            try (var w = Files.newBufferedWriter(tmp)) {
                p.store(w, "KVM probe result for this boot of the host (docs/vm.md); delete to probe again");
            }
            Files.move(tmp, runDirectory.resolve(CACHE_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remember the KVM probe: " + e.getMessage());
        }
    }

    /** Host boot + QEMU binary: a new boot, a new QEMU or a changed /dev/kvm probes again. */
    private static String cacheKey(String qemuBinary) throws IOException {
        String boot = Files.readString(BOOT_ID).strip();
        Path binary = qemuBinary.contains("/") ? Path.of(qemuBinary) : VmmSpawner.onPath(qemuBinary);
        String qemu = binary == null ? qemuBinary : binary + "@" + Files.getLastModifiedTime(binary).toMillis();
        String kvm = Files.exists(KVM_DEVICE) ? "kvm@" + Files.getLastModifiedTime(KVM_DEVICE).toMillis() : "no-kvm";
        return boot + "|" + qemu + "|" + kvm;
    }

    private static long millis(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static String firstLine(String text) {
        String s = text.strip();
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static void deleteTree(Path dir) {
        if (dir == null) return;
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a temporary directory; the OS cleans it eventually
                }
            });
        } catch (IOException ignored) {
            // as above
        }
    }
}
