package dev.kiln.vm;

/** A VM did not come up; the message says why and ends with the tail of its console. */
public class VmBootException extends Exception {
    public VmBootException(String message) {
        super(message);
    }

    public VmBootException(String message, Throwable cause) {
        super(message, cause);
    }
}
