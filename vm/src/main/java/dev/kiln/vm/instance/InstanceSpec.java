package dev.kiln.vm.instance;

import dev.kiln.vm.Drive;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What an instance VM boots: how ({@link InstanceBoot}), the instance's disk (a root filesystem,
 * or a whole disk with its own kernel; systemd as init), its NoCloud seed, the loopback port its
 * SSH is forwarded from, and its extra drives (the message's volumes: read-only immutable ones,
 * writable persistent and scratch ones).
 *
 * @param name      the VM's name (QEMU's -name, file names); it identifies the VM's QEMU process
 *                  when a node re-adopts it, so it must be unique per instance
 * @param boot      Kiln's kernel for a rootfs instance, the firmware for a disk image
 * @param disk      the instance's qcow2 disk
 * @param seed      the cloud-init seed ISO
 * @param memoryMib guest RAM
 * @param vcpus     virtual CPUs
 * @param sshPort   host port on 127.0.0.1 forwarded to the guest's port 22
 * @param workDir   where the console log, QEMU's log and pid file go
 * @param internet  whether the guest may reach beyond the host (user-mode NAT); false isolates it
 *                  ({@code restrict=on}), the SSH forward still works
 * @param volumes   raw drives in the message's order, each with the serial {@link #volumeSerial(int)}
 *                  so the guest finds it as {@code /dev/disk/by-id/virtio-<serial>}; QEMU opens a
 *                  drive read-only when {@link Drive#readOnly()} says so, else writable
 * @param guestApi  the Unix socket the node serves this VM's guest API on, or null for none: the
 *                  guest's connections to {@link #GUEST_API_ADDRESS} port 80 are forwarded there
 */
public record InstanceSpec(String name, InstanceBoot boot, Path disk, Path seed, int memoryMib, int vcpus, int sshPort,
                           Path workDir, boolean internet, List<Drive> volumes, Path guestApi) {
    /**
     * Where an instance reaches its guest API: an address of QEMU's user-mode network (10.0.2.0/24,
     * as QEMU's forwards require) that its DHCP server never hands out.
     */
    public static final String GUEST_API_ADDRESS = "10.0.2.100";

    public InstanceSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(boot, "boot");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(workDir, "workDir");
        volumes = List.copyOf(volumes);
        if (memoryMib < 128) throw new IllegalArgumentException("an instance needs at least 128 MiB, got " + memoryMib);
        if (vcpus < 1) throw new IllegalArgumentException("vcpus must be at least 1");
        if (sshPort < 1 || sshPort > 65535) throw new IllegalArgumentException("ssh port out of range: " + sshPort);
    }

    /** An instance with internet access and no extra drives. */
    public InstanceSpec(String name, InstanceBoot boot, Path disk, Path seed, int memoryMib, int vcpus, int sshPort,
                        Path workDir) {
        this(name, boot, disk, seed, memoryMib, vcpus, sshPort, workDir, true, List.of(), null);
    }

    /** A rootfs instance booted with the Kiln kernel {@code kernel}, with internet access and no extra drives. */
    public InstanceSpec(String name, Path kernel, Path disk, Path seed, int memoryMib, int vcpus, int sshPort, Path workDir) {
        this(name, new InstanceBoot.KernelBoot(kernel), disk, seed, memoryMib, vcpus, sshPort, workDir);
    }

    public Path consoleLog() {
        return workDir.resolve(name + ".console.log");
    }

    /** QEMU writes its daemon's pid here. */
    public Path pidFile() {
        return workDir.resolve(name + ".pid");
    }

    /** QEMU's own messages (start-up errors). */
    public Path qemuLog() {
        return workDir.resolve(name + ".qemu.log");
    }

    /** The virtio serial number of the {@code index}-th volume drive. */
    public static String volumeSerial(int index) {
        return "kiln-volume-" + index;
    }
}
