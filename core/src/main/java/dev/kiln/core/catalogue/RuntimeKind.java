package dev.kiln.core.catalogue;

import java.util.Arrays;
import java.util.stream.Collectors;

/** What a runtime is used for; the seeds' four tables. */
public enum RuntimeKind {
    FUNCTION("function", "function runtime (programs)"),
    INSTANCE_ROOTFS("instance-rootfs", "instance root filesystem (Firecracker)"),
    QEMU_DISK_IMAGE("qemu-disk-image", "QEMU cloud disk image (instances)"),
    CONFIDENTIAL_FIRMWARE("confidential-firmware", "confidential-computing firmware");

    private final String id;
    private final String description;

    RuntimeKind(String id, String description) {
        this.id = id;
        this.description = description;
    }

    /** The stable identifier used in catalogue files, JSON output and CLI options. */
    public String id() {
        return id;
    }

    public String description() {
        return description;
    }

    public static RuntimeKind fromId(String id) {
        for (RuntimeKind k : values()) {
            if (k.id.equals(id)) return k;
        }
        throw new IllegalArgumentException("unknown runtime kind '" + id + "'; expected one of " + ids());
    }

    public static String ids() {
        return Arrays.stream(values()).map(RuntimeKind::id).collect(Collectors.joining(", "));
    }
}
