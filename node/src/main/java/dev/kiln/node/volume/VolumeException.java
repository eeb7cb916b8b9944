package dev.kiln.node.volume;

/** A volume could not be made ready on the host (a tool missing or failing, the disk full). */
public class VolumeException extends Exception {
    public VolumeException(String message, Throwable cause) {
        super(message, cause);
    }
}
