package dev.kiln.vm;

/** How a VM came to be READY: a full boot, or a restore of a snapshot (docs/snapshots.md). */
public enum VmStart {
    BOOT, RESTORE;

    /** The word records and {@code /about} use: {@code boot} or {@code restore}. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
