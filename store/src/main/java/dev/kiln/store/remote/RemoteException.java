package dev.kiln.store.remote;

import dev.kiln.store.failure.StoreException;
import java.net.URI;

/** A remote source could not supply what was asked; says which remote. */
public abstract class RemoteException extends StoreException {
    private final URI remote;

    protected RemoteException(URI remote, String message, Throwable cause) {
        super(message, cause);
        this.remote = remote;
    }

    /** The remote's base URL. */
    public URI remote() {
        return remote;
    }
}
