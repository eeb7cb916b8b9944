package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.StoreException;

/** A remote supplied a message for a reference that is not a valid STORE message with that hash. */
public final class InvalidStoreMessageException extends StoreException {
    private final ItemHash ref;

    public InvalidStoreMessageException(ItemHash ref, String reason) {
        super("the message " + ref + " cannot be used as a reference to a file: " + reason);
        this.ref = ref;
    }

    public ItemHash ref() {
        return ref;
    }
}
