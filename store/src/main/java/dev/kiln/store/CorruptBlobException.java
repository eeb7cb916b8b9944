package dev.kiln.store;

import dev.kiln.store.failure.StoreException;

/** A read found a stored blob whose bytes do not match its hash; the blob was quarantined. */
public final class CorruptBlobException extends StoreException {
    private final Corruption corruption;

    public CorruptBlobException(Corruption corruption) {
        super(corruption.describe());
        this.corruption = corruption;
    }

    public Corruption corruption() {
        return corruption;
    }
}
