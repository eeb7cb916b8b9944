package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.StoreException;

/** The item is not in the local store (and, when thrown by the fetcher, no remote was tried). */
public final class BlobNotFoundException extends StoreException {
    private final ItemHash hash;

    public BlobNotFoundException(ItemHash hash, String hint) {
        super("item " + hash + " is not in the local store: " + hint);
        this.hash = hash;
    }

    public ItemHash hash() {
        return hash;
    }
}
