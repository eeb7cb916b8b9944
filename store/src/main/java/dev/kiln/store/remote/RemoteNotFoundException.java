package dev.kiln.store.remote;

import dev.kiln.core.hash.ItemHash;
import java.net.URI;

/** The remote answered, and it does not have this item (HTTP 404, or no such message). Not retried. */
public final class RemoteNotFoundException extends RemoteException {
    private final ItemHash hash;

    public RemoteNotFoundException(String what, ItemHash hash, URI remote) {
        super(remote, what + " " + hash + " not found on " + remote + ": check the hash or the --remote URL", null);
        this.hash = hash;
    }

    public ItemHash hash() {
        return hash;
    }
}
