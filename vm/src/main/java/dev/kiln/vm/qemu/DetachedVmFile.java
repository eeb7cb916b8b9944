package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmNic;
import dev.kiln.vm.VmSpec;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * {@code vm.properties} in a detached VM's work directory: everything a later driver needs to
 * adopt the VM — the spec it was booted from, the exact command line (the process's
 * {@code /proc/<pid>/cmdline} must match it: the proof that a pid still is this VM), the VMM's pid
 * and start time, the accelerator, when it started and how long its boot took. Written once the VM
 * is READY, atomically; removed with the work directory when the VM ends.
 */
record DetachedVmFile(String vmId, VmSpec spec, List<String> command, long pid, long pidStartMillis,
                      Accelerator accelerator, Instant startedAt, Duration boot) {
    static final String NAME = "vm.properties";
    /** Separates list items; never part of a path or argument Kiln passes to QEMU. */
    private static final String SEP = "\u001f";

    static Path in(Path workDir) {
        return workDir.resolve(NAME);
    }

    void write() throws IOException {
        Properties p = new Properties();
        p.setProperty("vm", vmId);
        p.setProperty("pid", Long.toString(pid));
        p.setProperty("pid.start", Long.toString(pidStartMillis));
        p.setProperty("accelerator", accelerator.id());
        p.setProperty("started", startedAt.toString());
        p.setProperty("boot.ms", Long.toString(boot.toMillis()));
        p.setProperty("command", String.join(SEP, command));
        p.setProperty("spec.name", spec.name());
        p.setProperty("spec.kernel", spec.kernel().toString());
        p.setProperty("spec.rootfs", spec.rootfs().toString());
        p.setProperty("spec.rootfsType", spec.rootfsType());
        p.setProperty("spec.memory", Integer.toString(spec.memoryMiB()));
        p.setProperty("spec.vcpus", Integer.toString(spec.vcpus()));
        p.setProperty("spec.kernelArgs", String.join(SEP, spec.kernelArgs()));
        p.setProperty("spec.workDir", spec.workDir().toString());
        p.setProperty("spec.bootTimeout.ms", Long.toString(spec.bootTimeout().toMillis()));
        p.setProperty("spec.drives", Integer.toString(spec.drives().size()));
        for (int i = 0; i < spec.drives().size(); i++) {
            Drive d = spec.drives().get(i);
            p.setProperty("spec.drive." + i + ".id", d.id());
            p.setProperty("spec.drive." + i + ".file", d.file().toString());
            p.setProperty("spec.drive." + i + ".readOnly", Boolean.toString(d.readOnly()));
        }
        if (spec.nic() != null) {
            p.setProperty("spec.nic.tap", spec.nic().tapName());
            p.setProperty("spec.nic.mac", spec.nic().mac());
        }
        StringWriter text = new StringWriter();
        p.store(text, "a detached Kiln VM: read by the next node to adopt it (docs/vm.md, Detached VMs)");
        Path file = in(spec.workDir());
        Path tmp = file.resolveSibling("." + NAME + ".tmp");
        Files.writeString(tmp, text.toString());
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The record in {@code workDir}; empty if there is none. */
    static Optional<DetachedVmFile> read(Path workDir) throws IOException {
        Path file = in(workDir);
        if (!Files.isRegularFile(file)) return Optional.empty();
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(file)));
        try {
            List<Drive> drives = new ArrayList<>();
            int n = Integer.parseInt(p.getProperty("spec.drives", "0"));
            for (int i = 0; i < n; i++) {
                drives.add(new Drive(p.getProperty("spec.drive." + i + ".id"), Path.of(p.getProperty("spec.drive." + i + ".file")),
                        Boolean.parseBoolean(p.getProperty("spec.drive." + i + ".readOnly"))));
            }
            VmNic nic = p.getProperty("spec.nic.tap") == null ? null
                    : new VmNic(p.getProperty("spec.nic.tap"), p.getProperty("spec.nic.mac"));
            VmSpec spec = new VmSpec(p.getProperty("spec.name"), Path.of(p.getProperty("spec.kernel")),
                    Path.of(p.getProperty("spec.rootfs")), p.getProperty("spec.rootfsType"), drives,
                    Integer.parseInt(p.getProperty("spec.memory")), Integer.parseInt(p.getProperty("spec.vcpus")),
                    list(p.getProperty("spec.kernelArgs")), Path.of(p.getProperty("spec.workDir")),
                    Duration.ofMillis(Long.parseLong(p.getProperty("spec.bootTimeout.ms"))), nic);
            Accelerator accel = Arrays.stream(Accelerator.values()).filter(a -> a.id().equals(p.getProperty("accelerator")))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("unknown accelerator " + p.getProperty("accelerator")));
            return Optional.of(new DetachedVmFile(p.getProperty("vm"), spec, list(p.getProperty("command")),
                    Long.parseLong(p.getProperty("pid")), Long.parseLong(p.getProperty("pid.start")), accel,
                    Instant.parse(p.getProperty("started")), Duration.ofMillis(Long.parseLong(p.getProperty("boot.ms")))));
        } catch (RuntimeException e) {
            throw new IOException(file + " is not a readable detached-VM record: " + e.getMessage(), e);
        }
    }

    private static List<String> list(String joined) {
        if (joined == null || joined.isEmpty()) return List.of();
        return List.of(joined.split(SEP, -1));
    }

    /** True if {@code pid} runs now, started when recorded, and runs exactly this VM's command. */
    boolean isRunningHere() {
        if (!VmmRegistry.isRunning(pid, Long.toString(pidStartMillis))) return false;
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            List<String> args = new ArrayList<>(List.of(new String(raw, java.nio.charset.StandardCharsets.UTF_8).split("\u0000")));
            // What ran QEMU (setsid, a wrapper such as `ip netns exec`) exec'd into it, so the pid is QEMU's but its
            // argv[0] may be the name the wrapper gave; the arguments, which name this VM's own sockets, must be equal.
            return !args.isEmpty() && !command.isEmpty() && args.subList(1, args.size()).equals(command.subList(1, command.size()));
        } catch (IOException e) {
            return false;
        }
    }
}
