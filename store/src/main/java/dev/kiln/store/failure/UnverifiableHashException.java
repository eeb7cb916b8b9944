package dev.kiln.store.failure;

import dev.kiln.core.hash.ItemHash;

import java.util.Objects;

/**
 * An IPFS CID was given where Kiln must verify bytes itself. A CID names a UnixFS DAG whose shape
 * depends on how the file was chunked, so the raw bytes of a file cannot be checked against it;
 * Kiln refuses rather than store something it cannot verify (docs/store.md).
 */
public final class UnverifiableHashException extends StoreException {
    private final ItemHash hash;

    public UnverifiableHashException(ItemHash hash) {
        super("CID item hashes cannot be verified locally; " + hash + " is an IPFS CID and Kiln only stores"
                + " items named by the SHA-256 of their bytes: publish the file with item_type \"storage\""
                + " (which names it by SHA-256) and use that item hash instead");
        this.hash = hash;
    }

    public ItemHash hash() {
        return hash;
    }

    /** Throws unless {@code hash} is a SHA-256 item hash. */
    public static ItemHash requireSha256(ItemHash hash) throws UnverifiableHashException {
        Objects.requireNonNull(hash, "hash");
        if (!hash.isSha256()) throw new UnverifiableHashException(hash);
        return hash;
    }
}
