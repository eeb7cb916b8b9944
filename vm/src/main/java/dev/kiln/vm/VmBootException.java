package dev.kiln.vm;

import java.util.Locale;
import java.util.Objects;

/**
 * A VM did not come up. {@link #reason()} says which kind of failure it was (callers branch on
 * it: a closed launcher means the node is shutting down, not that the guest is broken); the
 * message says what happened in words and, for a guest that started, ends with its console tail.
 */
public class VmBootException extends Exception {

    /** One variant per cause; {@link #label()} is the word logs and metrics use. */
    public enum Reason {
        /** The spec cannot be booted: a missing or unreadable kernel, image or drive, a bad kernel word, a work directory in use. */
        INVALID_SPEC,
        /** The host cannot run the VMM (not installed, no TSC frequency for TCG, the accelerator setting is wrong). */
        HOST_UNSUPPORTED,
        /** The VMM process could not be started. */
        VMM_START_FAILED,
        /** The VMM exited before the guest agent said hello (a kernel panic, an init that failed). */
        VMM_EXITED,
        /** No hello within the spec's boot timeout. */
        TIMEOUT,
        /** The guest channel failed or closed before the hello. */
        CHANNEL,
        /** The guest agent broke the protocol during the handshake. */
        PROTOCOL,
        /** The VM was stopped while it booted. */
        STOPPED,
        /** The launcher is closed: the node is shutting down. */
        LAUNCHER_CLOSED,
        /**
         * A snapshot could not be restored (missing, corrupted, incompatible, or its state did not
         * load): never the program's fault; the caller discards the snapshot and boots instead.
         */
        SNAPSHOT_UNUSABLE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Reason reason;

    public VmBootException(Reason reason, String message) {
        this(reason, message, null);
    }

    public VmBootException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
