package dev.kiln.store;

import dev.kiln.store.failure.StoreException;

/** A publication was refused; the message says why and what to do instead. */
public final class PublishException extends StoreException {
    public PublishException(String message) {
        super(message);
    }
}
