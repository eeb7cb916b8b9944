package dev.kiln.vm.instance;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.qemu.HostTsc;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

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
 * to this JVM's life (no {@code setpriv --pdeathsig}): instances are to outlive a node restart and
 * be re-adopted; whoever starts one stops it.
 */
public final class InstanceLauncher {

    private final String qemuBinary;
    private final Accelerator accelerator;
    private final HostTsc tsc;

    public InstanceLauncher(String qemuBinary, Accelerator accelerator, HostTsc tsc) {
        this.qemuBinary = qemuBinary;
        this.accelerator = accelerator;
        this.tsc = tsc;
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
                "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:" + spec.sshPort() + "-:22",
                "-device", "virtio-net-" + bus + ",netdev=net0",
                "-serial", "file:" + spec.consoleLog().toAbsolutePath()));
        return a;
    }

    private String kernelArguments() {
        List<String> kernelArgs = new ArrayList<>(List.of("console=ttyS0", "root=/dev/vda", "rw", "rootfstype=ext4", "panic=-1"));
        // TCG boots hang calibrating against the PIT without the host's TSC rate (DESIGN.md).
        if (accelerator == Accelerator.TCG) kernelArgs.add(tsc.kernelArguments());
        kernelArgs.add("random.trust_cpu=on");
        return String.join(" ", kernelArgs);
    }

    /** Starts the VM; the caller owns the returned handle and closes it. */
    public InstanceVm start(InstanceSpec spec) throws IOException {
        Files.createDirectories(spec.workDir());
        Files.deleteIfExists(spec.consoleLog());
        Process p = new ProcessBuilder(commandLine(spec)).redirectErrorStream(true)
                .redirectOutput(spec.workDir().resolve(spec.name() + ".qemu.log").toFile()).start();
        return new InstanceVm(spec, p, System.nanoTime());
    }

    /** QEMU's option syntax doubles commas inside values. */
    private static String escape(String value) {
        return value.replace(",", ",,");
    }
}
