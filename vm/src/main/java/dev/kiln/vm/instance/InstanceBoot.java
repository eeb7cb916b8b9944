package dev.kiln.vm.instance;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How an instance VM boots: a rootfs instance with a Kiln kernel on QEMU's microvm, or a
 * disk-image instance with the disk's own bootloader and kernel on QEMU's PC machine and its
 * firmware (SeaBIOS).
 */
public sealed interface InstanceBoot {

    /** Kiln's kernel, loaded by QEMU; the disk holds only the root filesystem. */
    record KernelBoot(Path vmlinux) implements InstanceBoot {
        public KernelBoot {
            Objects.requireNonNull(vmlinux, "vmlinux");
        }
    }

    /** The firmware boots the disk: its MBR, GRUB, and the distribution's kernel and initramfs. */
    record FirmwareBoot() implements InstanceBoot {
    }
}
