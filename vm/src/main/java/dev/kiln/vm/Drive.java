package dev.kiln.vm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A block device given to the guest, in the order of {@link VmSpec#drives()}: the root filesystem
 * is always {@code /dev/vda}, the first extra drive {@code /dev/vdb}, and so on.
 *
 * @param id       QEMU's drive id and a name for logs, e.g. {@code code}
 * @param file     a raw image (squashfs, ext4, …)
 * @param readOnly true for shared content (runtimes, code, immutable volumes)
 */
public record Drive(String id, Path file, boolean readOnly) {
    public Drive {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(file, "file");
        if (!id.matches("[a-zA-Z][a-zA-Z0-9_-]{0,31}")) throw new IllegalArgumentException("bad drive id '" + id + "'");
    }

    /** The guest device name of the drive at this position among the extra drives (0 → vdb). */
    public static String guestDevice(int extraIndex) {
        if (extraIndex < 0 || extraIndex > 24) throw new IllegalArgumentException("drive index " + extraIndex);
        return "/dev/vd" + (char) ('b' + extraIndex);
    }
}
