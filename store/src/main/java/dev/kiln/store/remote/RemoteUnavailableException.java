package dev.kiln.store.remote;

import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.net.URI;

/** Transient failures (connection errors, 5xx, 429, cut or stalled bodies) outlasted every retry. */
public final class RemoteUnavailableException extends RemoteException {
    private final int attempts;

    public RemoteUnavailableException(String what, ItemHash hash, URI remote, int attempts, IOException last) {
        super(remote, "could not get " + what + " " + hash + " from " + remote + " after " + attempts
                + (attempts == 1 ? " attempt" : " attempts") + " (last error: " + describe(last) + "): check the"
                + " network and that the remote is up, then try again, or use another --remote", last);
        this.attempts = attempts;
    }

    public int attempts() {
        return attempts;
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
