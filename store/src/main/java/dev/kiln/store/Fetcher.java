package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import dev.kiln.store.remote.DownloadProgress;
import dev.kiln.store.remote.RemoteException;
import dev.kiln.store.remote.RemoteSource;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Brings items into the local store: a verified local copy if there is one, else a download from
 * the remotes in order, verified before it enters the store.
 *
 * <p>Single-flight per item: concurrent requests for the same hash share one download (the first
 * caller does the work, the others wait on its future), while different hashes download in
 * parallel. There is no lock shared between different items.
 */
public final class Fetcher {

    private static final System.Logger LOG = System.getLogger(Fetcher.class.getName());

    private final BlobStore store;
    private final List<RemoteSource> remotes;
    private final ConcurrentHashMap<ItemHash, CompletableFuture<Path>> inFlight = new ConcurrentHashMap<>();

    /** @param remotes tried in this order; may be empty (then only local items are found) */
    public Fetcher(BlobStore store, List<? extends RemoteSource> remotes) {
        this.store = store;
        this.remotes = List.copyOf(remotes);
    }

    public BlobStore store() {
        return store;
    }

    public List<RemoteSource> remotes() {
        return remotes;
    }

    /** Like {@link #ensureLocal(ItemHash, DownloadProgress)} without progress reports. */
    public Path ensureLocal(ItemHash hash) throws IOException {
        return ensureLocal(hash, DownloadProgress.NONE);
    }

    /**
     * The path of a verified local copy of the item, downloading it first if needed.
     *
     * @param progress told about the download if this call performs it; a caller that joins a
     *                 download already running for the same hash just waits for it
     * @throws CorruptBlobException if the local copy was corrupted (it is quarantined) and no remote
     *                              is configured to fetch a good one from
     */
    public Path ensureLocal(ItemHash hash, DownloadProgress progress) throws IOException {
        UnverifiableHashException.requireSha256(hash);
        while (true) {
            Path local;
            try {
                local = local(hash);
            } catch (CorruptBlobException e) {
                // Already quarantined. With no remote there is no good copy to be had: say that it
                // was corrupted rather than that it is missing.
                if (remotes.isEmpty()) throw e;
                LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; fetching it again");
                local = null;
            }
            if (local != null) return local;

            CompletableFuture<Path> mine = new CompletableFuture<>();
            CompletableFuture<Path> running = inFlight.putIfAbsent(hash, mine);
            if (running == null) {
                return lead(hash, progress, mine);
            }
            try {
                return running.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the download of " + hash);
            } catch (ExecutionException e) {
                // The leader was interrupted, not the item unavailable: this caller still wants it.
                if (e.getCause() instanceof InterruptedIOException) continue;
                throw rethrowable(e.getCause());
            }
        }
    }

    /**
     * The JSON of a message from the first remote that has it.
     *
     * @throws BlobNotFoundException if no remote is configured
     */
    public String fetchMessage(ItemHash messageHash) throws IOException {
        if (remotes.isEmpty()) {
            throw new BlobNotFoundException(messageHash, "no remote is configured to fetch the message from:"
                    + " pass --remote or set KILN_REMOTE");
        }
        List<IOException> failures = new ArrayList<>();
        for (RemoteSource remote : remotes) {
            try {
                return remote.fetchMessage(messageHash);
            } catch (RemoteException e) {
                failures.add(e);
            }
        }
        throw failures.size() == 1 ? failures.getFirst() : new FetchFailedException(messageHash, failures);
    }

    private Path lead(ItemHash hash, DownloadProgress progress, CompletableFuture<Path> mine) throws IOException {
        try {
            Path p = fetch(hash, progress);
            mine.complete(p);
            return p;
        } catch (Throwable t) {
            mine.completeExceptionally(t);
            throw t;
        } finally {
            inFlight.remove(hash, mine);
        }
    }

    private Path fetch(ItemHash hash, DownloadProgress progress) throws IOException {
        // A flight that ended between our local check and becoming leader may have stored it.
        Path local = localVerified(hash);
        if (local != null) return local;
        if (remotes.isEmpty()) {
            throw new BlobNotFoundException(hash, "no remote is configured to fetch it from: pass --remote or set KILN_REMOTE");
        }
        List<IOException> failures = new ArrayList<>();
        for (RemoteSource remote : remotes) {
            Path temp = store.newTempFile(BlobStore.DOWNLOAD_PREFIX);
            try {
                remote.download(hash, temp, progress);
                return store.adopt(temp, hash, remote.location().toString());
            } catch (RemoteException | HashMismatchException e) {
                // This remote cannot supply good bytes; the next one might.
                LOG.log(System.Logger.Level.WARNING, e.getMessage());
                failures.add(e);
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        throw failures.size() == 1 ? failures.getFirst() : new FetchFailedException(hash, failures);
    }

    /** A verified local path, or null if absent or found corrupted (then it is already quarantined). */
    private Path localVerified(ItemHash hash) throws IOException {
        try {
            return local(hash);
        } catch (CorruptBlobException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; fetching it again");
            return null;
        }
    }

    /** A verified local path, or null if absent; a corrupted copy is quarantined and thrown. */
    private Path local(ItemHash hash) throws IOException {
        if (!store.has(hash)) return null;
        try {
            return store.path(hash);
        } catch (BlobNotFoundException removedMeanwhile) {
            return null;
        }
    }

    private static IOException rethrowable(Throwable cause) {
        return switch (cause) {
            case IOException io -> io;
            case UncheckedIOException u -> u.getCause();
            case RuntimeException r -> throw r;
            case Error err -> throw err;
            default -> new IOException(cause);
        };
    }
}
