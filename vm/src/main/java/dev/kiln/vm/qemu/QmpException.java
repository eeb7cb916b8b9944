package dev.kiln.vm.qemu;

import java.io.IOException;

/**
 * A QMP exchange failed: the monitor could not be reached, the connection closed, no answer came
 * in time, or QEMU refused the command ({@link #errorClass()} is then QEMU's error class, e.g.
 * {@code GenericError}, and the message QEMU's description).
 */
public class QmpException extends IOException {
    private final String errorClass;

    public QmpException(String message) {
        this(message, null, null);
    }

    public QmpException(String message, Throwable cause) {
        this(message, null, cause);
    }

    public QmpException(String message, String errorClass, Throwable cause) {
        super(message, cause);
        this.errorClass = errorClass;
    }

    /** QEMU's error class when QEMU answered with an error, else null. */
    public String errorClass() {
        return errorClass;
    }
}
