package dev.kiln.vm.instance;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What an instance VM boots: how ({@link InstanceBoot}), the instance's disk (a root filesystem,
 * or a whole disk with its own kernel; systemd as init), its NoCloud seed, and the loopback port
 * its SSH is forwarded from.
 *
 * @param name      the VM's name (QEMU's -name, file names)
 * @param boot      Kiln's kernel for a rootfs instance, the firmware for a disk image
 * @param disk      the instance's qcow2 disk
 * @param seed      the cloud-init seed ISO
 * @param memoryMib guest RAM
 * @param vcpus     virtual CPUs
 * @param sshPort   host port on 127.0.0.1 forwarded to the guest's port 22
 * @param workDir   where the console log, QMP socket and pid file go
 */
public record InstanceSpec(String name, InstanceBoot boot, Path disk, Path seed, int memoryMib, int vcpus, int sshPort,
                           Path workDir) {
    public InstanceSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(workDir, "workDir");
        if (memoryMib < 128) throw new IllegalArgumentException("an instance needs at least 128 MiB, got " + memoryMib);
        if (vcpus < 1) throw new IllegalArgumentException("vcpus must be at least 1");
        if (sshPort < 1 || sshPort > 65535) throw new IllegalArgumentException("ssh port out of range: " + sshPort);
    }

    /** A rootfs instance booted with the Kiln kernel {@code kernel} (the shape before disk images existed). */
    public InstanceSpec(String name, Path kernel, Path disk, Path seed, int memoryMib, int vcpus, int sshPort, Path workDir) {
        this(name, new InstanceBoot.KernelBoot(kernel), disk, seed, memoryMib, vcpus, sshPort, workDir);
    }

    public Path consoleLog() {
        return workDir.resolve(name + ".console.log");
    }
}
