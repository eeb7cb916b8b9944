package dev.kiln.vm.instance;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.qemu.HostTsc;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Starts instance VMs. A rootfs instance ({@link InstanceBoot.KernelBoot}) runs on QEMU's microvm
 * with a Kiln kernel whose root is the instance's disk and whose init is the distribution's
 * systemd; a disk-image instance ({@link InstanceBoot.FirmwareBoot}) runs on QEMU's PC machine,
 * where SeaBIOS boots the disk's GRUB, kernel and initramfs (virtio-pci devices). Either way the
 * seed ISO is a second virtio disk. SSH is reached
 * through QEMU user-mode networking forwarding 127.0.0.1:port to the guest's port 22 (loopback
 * only); the node replaces this with a TAP device and nftables forwards (docs/network.md).
 * A guest that powers off (ACPI) ends its QEMU; its disk keeps what it wrote, and starting the
 * same spec again is the instance's reboot. Unlike function VMs, an instance's QEMU is not tied
 * to this JVM's life: it is started with {@code -daemonize} (QEMU forks into its own session,
 * detached from this process; no parent-death signal) and writes its pid to
 * {@link InstanceSpec#pidFile()}, so that it outlives a node restart and the next node
 * {@link #adopt adopts} it. Whoever starts one stops it.
 */
public final class InstanceLauncher {

    private final String qemuBinary;
    private final Accelerator accelerator;
    private final Supplier<HostTsc> tsc;
    private volatile HostTsc detected;

    public InstanceLauncher(String qemuBinary, Accelerator accelerator, HostTsc tsc) {
        this(qemuBinary, accelerator, () -> tsc);
    }

    /**
     * A launcher that asks {@code tsc} for the host's TSC rate at its first TCG boot only (a node
     * that never boots an instance does not probe it).
     */
    public InstanceLauncher(String qemuBinary, Accelerator accelerator, Supplier<HostTsc> tsc) {
        this.qemuBinary = qemuBinary;
        this.accelerator = accelerator;
        this.tsc = tsc;
    }

    private HostTsc tsc() {
        HostTsc t = detected;
        if (t == null) detected = t = tsc.get();
        return t;
    }

    /** The QEMU command line for {@code spec}. */
    List<String> commandLine(InstanceSpec spec) {
        List<String> a = new ArrayList<>(List.of(qemuBinary, "-name", spec.name()));
        a.addAll(accelerator == Accelerator.KVM ? List.of("-accel", "kvm", "-cpu", "host") : List.of("-accel", "tcg", "-cpu", "max"));
        String bus = switch (spec.boot()) {
            case InstanceBoot.KernelBoot k -> {
                a.addAll(List.of("-machine", "microvm", "-kernel", k.vmlinux().toAbsolutePath().toString(),
                        "-append", kernelArguments()));
                yield "device";
            }
            case InstanceBoot.FirmwareBoot f -> {
                // The disk's own GRUB has the kernel command line; the machine's default firmware is SeaBIOS.
                a.addAll(List.of("-machine", "pc"));
                yield "pci";
            }
        };
        a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none",
                "-m", Integer.toString(spec.memoryMib()), "-smp", Integer.toString(spec.vcpus()),
                "-drive", "id=root,if=none,format=qcow2,file=" + escape(spec.disk().toAbsolutePath().toString()),
                "-device", "virtio-blk-" + bus + ",drive=root" + (bus.equals("pci") ? ",bootindex=0" : ""),
                "-drive", "id=seed,if=none,format=raw,readonly=on,file=" + escape(spec.seed().toAbsolutePath().toString()),
                "-device", "virtio-blk-" + bus + ",drive=seed",
                // restrict=on: no packets beyond QEMU's user-mode stack, yet the forward still works.
                "-netdev", "user,id=net0" + (spec.internet() ? "" : ",restrict=on")
                        + ",hostfwd=tcp:127.0.0.1:" + spec.sshPort() + "-:22" + guestApiForward(spec),
                "-device", "virtio-net-" + bus + ",netdev=net0",
                "-serial", "file:" + spec.consoleLog().toAbsolutePath()));
        for (int i = 0; i < spec.volumes().size(); i++) {
            Drive d = spec.volumes().get(i);
            a.addAll(List.of("-drive", "id=vol" + i + ",if=none,format=raw" + (d.readOnly() ? ",readonly=on" : "") + ",file="
                            + escape(d.file().toAbsolutePath().toString()),
                    "-device", "virtio-blk-" + bus + ",drive=vol" + i + ",serial=" + InstanceSpec.volumeSerial(i)));
        }
        a.addAll(List.of("-daemonize", "-pidfile", spec.pidFile().toAbsolutePath().toString()));
        return a;
    }

    /**
     * QEMU runs the command for each connection the guest opens to the API address (a forward
     * rule, so {@code restrict=on} leaves it working); socat carries it to the node's socket.
     */
    private static String guestApiForward(InstanceSpec spec) {
        if (spec.guestApi() == null) return "";
        String socket = spec.guestApi().toAbsolutePath().toString();
        if (socket.contains("'")) throw new IllegalArgumentException("a guest API socket path with a quote: " + socket);
        return ",guestfwd=" + escape("tcp:" + InstanceSpec.GUEST_API_ADDRESS + ":80-cmd:socat STDIO UNIX-CONNECT:'" + socket + "'");
    }

    private String kernelArguments() {
        List<String> kernelArgs = new ArrayList<>(List.of("console=ttyS0", "root=/dev/vda", "rw", "rootfstype=ext4", "panic=-1"));
        // TCG boots hang calibrating against the PIT without the host's TSC rate (DESIGN.md).
        if (accelerator == Accelerator.TCG) kernelArgs.add(tsc().kernelArguments());
        kernelArgs.add("random.trust_cpu=on");
        return String.join(" ", kernelArgs);
    }

    /**
     * Starts the VM and returns once QEMU has daemonized (its devices are set up, the guest is
     * booting); the caller owns the returned handle and closes it.
     *
     * @throws IOException with QEMU's own words if it refused to start (e.g. the disk is locked
     *                     by another QEMU: never two processes for one instance)
     */
    public InstanceVm start(InstanceSpec spec) throws IOException, InterruptedException {
        Files.createDirectories(spec.workDir());
        if (spec.guestApi() != null) {
            // Without socat QEMU starts fine and every guest-API connection just closes: say so now.
            Tools.run(List.of("socat", "-V"), "socat (the instance's guest API forward; apt-get install socat)");
        }
        Files.deleteIfExists(spec.consoleLog());
        Files.deleteIfExists(spec.pidFile());
        long started = System.nanoTime();
        Process p = new ProcessBuilder(commandLine(spec)).redirectErrorStream(true)
                .redirectOutput(spec.qemuLog().toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("QEMU did not finish starting " + spec.name() + " in 2 minutes");
        }
        String log = Files.exists(spec.qemuLog()) ? Files.readString(spec.qemuLog()).strip() : "";
        if (p.exitValue() != 0) {
            throw new IOException("QEMU could not start " + spec.name() + " (exit " + p.exitValue() + "): " + log);
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(spec.pidFile()).strip());
        } catch (IOException | NumberFormatException e) {
            throw new IOException("QEMU started " + spec.name() + " but wrote no readable pid file " + spec.pidFile(), e);
        }
        return new InstanceVm(spec, pid, started);
    }

    /**
     * The instance's QEMU if it still runs (started by this or an earlier node): its pid file's
     * process is alive and its command line names this instance and its disk.
     */
    public static Optional<InstanceVm> adopt(InstanceSpec spec) {
        long pid;
        try {
            pid = Long.parseLong(Files.readString(spec.pidFile()).strip());
        } catch (IOException | NumberFormatException none) {
            return Optional.empty();
        }
        return QemuProcesses.isInstance(pid, spec) ? Optional.of(new InstanceVm(spec, pid, System.nanoTime()))
                : Optional.empty();
    }

    /** QEMU's option syntax doubles commas inside values. */
    private static String escape(String value) {
        return value.replace(",", ",,");
    }
}
