package dev.kiln.store.failure;

import java.io.IOException;

/**
 * A failure of the store that a user can act on. Messages are complete sentences written for the
 * person at the terminal: what went wrong with which item, and what to do next.
 */
public abstract class StoreException extends IOException {
    protected StoreException(String message) {
        super(message);
    }

    protected StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
