package dev.kiln.core.catalogue;

/** A runtime name or hash that resolves to nothing, or to more than one runtime. */
public final class RuntimeNotFoundException extends RuntimeException {
    public RuntimeNotFoundException(String message) {
        super(message);
    }
}
