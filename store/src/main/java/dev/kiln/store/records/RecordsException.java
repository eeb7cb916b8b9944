package dev.kiln.store.records;

import dev.kiln.store.failure.StoreException;

/** A Kiln SQLite database (STORE records, node records) failed: locked too long, unreadable, or from a newer Kiln. */
public final class RecordsException extends StoreException {
    public RecordsException(String message) {
        super(message);
    }

    public RecordsException(String message, Throwable cause) {
        super(message, cause);
    }
}
