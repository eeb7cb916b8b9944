package dev.kiln.builder.cloudimage;

/** A file {@code kiln runtime import} refuses, with the reason and what to do instead. */
public final class CloudImageException extends Exception {
    public CloudImageException(String message) {
        super(message);
    }
}
