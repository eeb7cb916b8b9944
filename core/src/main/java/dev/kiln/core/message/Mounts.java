package dev.kiln.core.message;

import java.util.List;
import java.util.Map;

/** Mount points: where the guest attaches data and volumes. */
final class Mounts {
    /** Kernel filesystems the guest's init mounts itself; a volume there would hide or break them. */
    private static final List<String> KERNEL_OWNED = List.of("/proc", "/sys", "/dev");

    private Mounts() {}

    /**
     * Checks one mount point. {@code inUse} maps mount points already taken to the field that took
     * them; this one is added when valid (pass null for a mount that may share a path, like export).
     */
    static void check(String mount, Validation at, boolean required, Map<String, String> inUse) {
        if (mount == null) {
            if (required) at.fail("required: an absolute path in the VM, e.g. /opt/venv");
            return;
        }
        if (!mount.startsWith("/")) {
            at.fail("must be an absolute path, got '" + mount + "'");
            return;
        }
        if (mount.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            at.fail("must not contain control characters");
            return;
        }
        if (!isNormal(mount)) {
            at.fail("must be a plain absolute path without '.', '..', '//' or a trailing '/', got '" + mount + "'");
            return;
        }
        if (mount.equals("/")) {
            at.fail("cannot be '/': the root filesystem is the runtime's");
            return;
        }
        for (String owned : KERNEL_OWNED) {
            if (mount.equals(owned) || mount.startsWith(owned + "/")) {
                at.fail("'" + mount + "' is under " + owned + ", which the guest kernel owns");
                return;
            }
        }
        if (inUse != null) {
            String previous = inUse.putIfAbsent(mount, at.path());
            if (previous != null) {
                at.fail("'" + mount + "' is already the mount point of " + previous + "; each mount point holds one volume");
            }
        }
    }

    private static boolean isNormal(String path) {
        if (path.equals("/")) return true;
        for (String segment : path.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) return false;
        }
        return true;
    }
}
