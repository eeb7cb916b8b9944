package dev.kiln.core.catalogue;

/** A catalogue file that cannot be used; the message names the entry and field. */
public final class CatalogueFormatException extends RuntimeException {
    public CatalogueFormatException(String message) {
        super(message);
    }

    public CatalogueFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
