package dev.kiln.store.remote;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.StoreException;
import dev.kiln.store.failure.UnverifiableHashException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Somewhere Kiln can get aleph messages and files it does not have. Implementations retry
 * transient failures themselves and throw typed {@link StoreException}s when they give up.
 */
public interface RemoteSource {

    /** Where this source is, for messages and logs. */
    URI location();

    /**
     * The JSON text of the message with this item hash, exactly as the remote sent it.
     *
     * @throws RemoteNotFoundException if the remote does not know the message
     */
    String fetchMessage(ItemHash messageHash) throws IOException;

    /**
     * Downloads a file into {@code target} (created or truncated) and verifies it against
     * {@code fileHash} while streaming. On any failure {@code target} is deleted, so a caller never
     * sees unverified bytes.
     *
     * @return the number of bytes written
     * @throws HashMismatchException     if the bytes do not match (not retried)
     * @throws UnverifiableHashException for an IPFS CID, which cannot be verified locally
     * @throws RemoteNotFoundException                   if the remote does not have the file
     * @throws DownloadTooLargeException                 if the body exceeds the source's limit
     * @throws RemoteUnavailableException                if transient failures outlast the retries
     */
    long download(ItemHash fileHash, Path target, DownloadProgress progress) throws IOException;
}
