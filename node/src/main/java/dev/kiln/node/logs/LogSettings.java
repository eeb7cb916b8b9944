package dev.kiln.node.logs;

/**
 * The bounds of the node's logs (docs/node.md, "Logs").
 *
 * @param perVmBytes  what one VM's log keeps at most; its oldest lines go first (default 1 MiB)
 * @param totalBytes  what all logs together keep; the logs of ended VMs go first, oldest first
 *                    (default 64 MiB)
 * @param endedVmsKept how many ended VMs keep their logs (default 200)
 */
public record LogSettings(long perVmBytes, long totalBytes, int endedVmsKept) {
    public static final long DEFAULT_PER_VM_BYTES = 1024 * 1024;
    public static final long DEFAULT_TOTAL_BYTES = 64L * 1024 * 1024;
    public static final int DEFAULT_ENDED_VMS_KEPT = 200;

    public LogSettings {
        if (perVmBytes < 4096) throw new IllegalArgumentException("a VM's log must keep at least 4 KiB, got " + perVmBytes);
        if (totalBytes < perVmBytes) {
            throw new IllegalArgumentException("the logs' total (" + totalBytes + " bytes) must be at least one VM's ("
                    + perVmBytes + ")");
        }
        if (endedVmsKept < 0) throw new IllegalArgumentException("endedVmsKept cannot be negative");
    }

    public static LogSettings defaults() {
        return new LogSettings(DEFAULT_PER_VM_BYTES, DEFAULT_TOTAL_BYTES, DEFAULT_ENDED_VMS_KEPT);
    }
}
