package dev.kiln.builder.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * What a guest kernel must have built in to boot an image: its filesystem, the overlay init0 puts
 * over it, and the devices and filesystems init0 and init1 use. Recorded in the manifest so a
 * node with another kernel can check before it boots.
 */
final class KernelRequirements {

    private KernelRequirements() {
    }

    static RuntimeManifest.Kernel of(RuntimeSpec spec) {
        List<String> config = new ArrayList<>(List.of("CONFIG_BINFMT_ELF", "CONFIG_BINFMT_SCRIPT", "CONFIG_DEVTMPFS",
                "CONFIG_PROC_FS", "CONFIG_SYSFS", "CONFIG_TMPFS", "CONFIG_OVERLAY_FS", "CONFIG_UNIX", "CONFIG_VIRTIO_BLK",
                "CONFIG_VIRTIO_CONSOLE", "CONFIG_UNIX98_PTYS"));
        String fstype;
        if (spec.output().format().equals(RuntimeSpec.Output.SQUASHFS)) {
            fstype = "squashfs";
            config.add("CONFIG_SQUASHFS");
            config.add(switch (spec.output().compression()) {
                case "zstd" -> "CONFIG_SQUASHFS_ZSTD";
                case "xz" -> "CONFIG_SQUASHFS_XZ";
                case "lz4" -> "CONFIG_SQUASHFS_LZ4";
                default -> "CONFIG_SQUASHFS_ZLIB";
            });
        } else {
            fstype = "ext4";
            config.add("CONFIG_EXT4_FS");
        }
        config.sort(String::compareTo);
        return new RuntimeManifest.Kernel(config, "root=/dev/vda ro rootfstype=" + fstype + " init=/sbin/init");
    }
}
