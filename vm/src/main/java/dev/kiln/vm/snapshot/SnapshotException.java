package dev.kiln.vm.snapshot;

/**
 * A snapshot cannot be used. Never a reason to fail a request: the caller discards the snapshot
 * (unless it is merely missing) and boots the VM instead; {@link #reason()} says what to log.
 */
public final class SnapshotException extends Exception {

    public enum Reason {
        /** No snapshot (or a part of one) where it was expected. */
        MISSING,
        /** A file's hash or size differs from the manifest, or the manifest is unreadable. */
        CORRUPT,
        /** Taken by another QEMU, for another machine shape, kernel or drives: it would not load or would be wrong. */
        INCOMPATIBLE,
        /** QEMU refused the saved state or the restored guest did not answer. */
        FAILED
    }

    private final Reason reason;

    public SnapshotException(Reason reason, String message) {
        this(reason, message, null);
    }

    public SnapshotException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
