package dev.kiln.vm;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything needed to boot one microVM: a recipe, not a running thing.
 *
 * @param name       for logs and the process title, e.g. the program's short hash
 * @param kernel     uncompressed vmlinux (PVH entry)
 * @param rootfs     the runtime image, attached read-only as {@code /dev/vda}
 * @param rootfsType filesystem of the root image ({@code squashfs} or {@code ext4})
 * @param drives     further drives: {@code /dev/vdb}, {@code /dev/vdc}, …
 * @param memoryMiB  guest RAM
 * @param vcpus      virtual CPUs
 * @param kernelArgs extra kernel command line words, appended after Kiln's own
 * @param workDir    a directory owned by this VM (sockets, console log); created if missing
 * @param bootTimeout how long to wait for the guest agent's hello before giving up
 * @param nic        the network card, or null for none (a VM without internet has no NIC at all)
 */
public record VmSpec(String name, Path kernel, Path rootfs, String rootfsType, List<Drive> drives,
                     int memoryMiB, int vcpus, List<String> kernelArgs, Path workDir, Duration bootTimeout,
                     VmNic nic) {

    /** A VM without a network card. */
    public VmSpec(String name, Path kernel, Path rootfs, String rootfsType, List<Drive> drives,
                  int memoryMiB, int vcpus, List<String> kernelArgs, Path workDir, Duration bootTimeout) {
        this(name, kernel, rootfs, rootfsType, drives, memoryMiB, vcpus, kernelArgs, workDir, bootTimeout, null);
    }

    public VmSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(rootfs, "rootfs");
        Objects.requireNonNull(workDir, "workDir");
        rootfsType = rootfsType == null ? "squashfs" : rootfsType;
        drives = drives == null ? List.of() : List.copyOf(drives);
        kernelArgs = kernelArgs == null ? List.of() : List.copyOf(kernelArgs);
        bootTimeout = bootTimeout == null ? Duration.ofSeconds(30) : bootTimeout;
        if (memoryMiB < 64) throw new IllegalArgumentException("memory must be at least 64 MiB, got " + memoryMiB);
        if (vcpus < 1) throw new IllegalArgumentException("vcpus must be at least 1, got " + vcpus);
    }

    /** The same VM with the given network card (null: none). */
    public VmSpec withNic(VmNic nic) {
        return new VmSpec(name, kernel, rootfs, rootfsType, drives, memoryMiB, vcpus, kernelArgs, workDir, bootTimeout, nic);
    }
}
