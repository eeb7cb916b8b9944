package dev.kiln.store.remote;

import dev.kiln.core.hash.ItemHash;
import java.net.URI;

/** The body announced or delivered more than the download limit; nothing was kept. Not retried. */
public final class DownloadTooLargeException extends RemoteException {
    private final long limit;

    public DownloadTooLargeException(ItemHash hash, URI remote, long limit, String seen) {
        super(remote, "item " + hash + " from " + remote + " is larger than the download limit of " + limit
                + " bytes (" + seen + "); nothing was stored: raise the limit if you expect a file this large", null);
        this.limit = limit;
    }

    public long limit() {
        return limit;
    }
}
