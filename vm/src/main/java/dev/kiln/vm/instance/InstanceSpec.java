package dev.kiln.vm.instance;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What an instance VM boots: a Kiln kernel, the instance's disk (root filesystem, systemd as
 * init), its NoCloud seed, and the loopback port its SSH is forwarded from.
 *
 * @param name      the VM's name (QEMU's -name, file names)
 * @param kernel    the uncompressed vmlinux
 * @param disk      the instance's qcow2 disk
 * @param seed      the cloud-init seed ISO
 * @param memoryMib guest RAM
 * @param vcpus     virtual CPUs
 * @param sshPort   host port on 127.0.0.1 forwarded to the guest's port 22
 * @param workDir   where the console log, QMP socket and pid file go
 */
public record InstanceSpec(String name, Path kernel, Path disk, Path seed, int memoryMib, int vcpus, int sshPort,
                           Path workDir) {
    public InstanceSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(workDir, "workDir");
        if (memoryMib < 128) throw new IllegalArgumentException("an instance needs at least 128 MiB, got " + memoryMib);
        if (vcpus < 1) throw new IllegalArgumentException("vcpus must be at least 1");
        if (sshPort < 1 || sshPort > 65535) throw new IllegalArgumentException("ssh port out of range: " + sshPort);
    }

    public Path consoleLog() {
        return workDir.resolve(name + ".console.log");
    }
}
