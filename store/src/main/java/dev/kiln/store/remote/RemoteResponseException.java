package dev.kiln.store.remote;

import java.net.URI;

/** The remote answered something Kiln cannot use (an unexpected status, malformed JSON). Not retried. */
public final class RemoteResponseException extends RemoteException {
    public RemoteResponseException(URI remote, String message) {
        super(remote, message, null);
    }

    public RemoteResponseException(URI remote, String message, Throwable cause) {
        super(remote, message, cause);
    }
}
