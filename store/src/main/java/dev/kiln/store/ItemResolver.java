package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.MessageFormatException;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ValidationError;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.store.remote.DownloadProgress;
import dev.kiln.store.remote.RemoteNotFoundException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Turns a reference — what a program's {@code runtime.ref}, {@code code.ref} or a volume's
 * {@code ref} holds — into a verified local file.
 *
 * <p>A reference is normally the item hash of a STORE message, whose content names the file. It
 * is looked up in the local records, else fetched from the remotes, checked (valid, its hash is
 * its content's hash, it is a STORE message) and recorded. With {@code use_latest}, the newest amend
 * by the same sender that is recorded here wins. A reference that is no known message is also
 * accepted as the hash of the file itself, as aleph's raw storage API does.
 *
 * <p>The file always comes through {@link Fetcher}, so it is verified against its hash and
 * concurrent resolutions of the same file share one download.
 */
public final class ItemResolver {

    private static final System.Logger LOG = System.getLogger(ItemResolver.class.getName());

    /**
     * What a reference resolved to.
     *
     * @param requested the reference as given
     * @param message   the STORE message used (the latest amend with use_latest), if the reference
     *                  was a message; empty if it named the file directly
     * @param fileHash  the file's hash
     * @param file      a verified local copy
     */
    public record Resolved(ItemHash requested, Optional<StoreRecord> message, ItemHash fileHash, Path file) {
        public Resolved {
            Objects.requireNonNull(requested, "requested");
            Objects.requireNonNull(message, "message");
            Objects.requireNonNull(fileHash, "fileHash");
            Objects.requireNonNull(file, "file");
        }
    }

    private final BlobStore blobs;
    private final StoreRecords records;
    private final Fetcher fetcher;

    public ItemResolver(BlobStore blobs, StoreRecords records, Fetcher fetcher) {
        this.blobs = blobs;
        this.records = records;
        this.fetcher = fetcher;
    }

    /** The STORE message a reference names, if it is recorded here or a remote has it. */
    public Optional<StoreRecord> message(ItemHash ref, boolean useLatest) throws IOException {
        Optional<StoreRecord> local = records.resolve(ref, useLatest);
        if (local.isPresent()) return local;
        if (fetcher.remotes().isEmpty() || blobs.has(ref)) return Optional.empty();
        String json;
        try {
            json = fetcher.fetchMessage(ref);
        } catch (RemoteNotFoundException notAMessage) {
            return Optional.empty();
        }
        StoreRecord fetched = checkedRecord(ref, json);
        records.add(fetched);
        LOG.log(System.Logger.Level.INFO, "recorded STORE message " + ref + " from a remote");
        return useLatest ? records.resolve(ref, true) : Optional.of(fetched);
    }

    /**
     * The verified local file a reference names, fetching the message and the file as needed.
     *
     * @throws BlobNotFoundException if nothing here or on a remote matches the reference
     * @throws InvalidStoreMessageException if a remote's message for it is unusable
     * @throws HashMismatchException / {@link FetchFailedException} if no good copy of the file could be had
     */
    public Resolved resolve(ItemHash ref, boolean useLatest, DownloadProgress progress) throws IOException {
        Optional<StoreRecord> message = message(ref, useLatest);
        ItemHash fileHash = message.map(StoreRecord::fileHash).orElse(ref);
        Path file;
        try {
            file = fetcher.ensureLocal(fileHash, progress);
        } catch (BlobNotFoundException | RemoteNotFoundException e) {
            if (message.isPresent()) {
                throw new BlobNotFoundException(fileHash, "it is the file of STORE message " + message.get().messageHash()
                        + (fetcher.remotes().isEmpty() ? ", and no remote is configured to fetch it from (--remote or KILN_REMOTE)"
                        : ", and no remote has it"));
            }
            throw new BlobNotFoundException(ref, "it is neither a STORE message recorded here nor a stored file"
                    + (fetcher.remotes().isEmpty() ? "; pass --remote (or set KILN_REMOTE) to fetch it from an aleph API"
                    : ", and the remotes have neither"));
        }
        return new Resolved(ref, message, fileHash, file);
    }

    private static StoreRecord checkedRecord(ItemHash ref, String json) throws InvalidStoreMessageException {
        AlephMessage m;
        try {
            m = AlephMessages.parse(json);
        } catch (MessageFormatException e) {
            throw new InvalidStoreMessageException(ref, "malformed JSON: " + e.getMessage());
        }
        List<ValidationError> errors = AlephMessages.check(m);
        if (!errors.isEmpty()) {
            throw new InvalidStoreMessageException(ref, errors.stream().map(ValidationError::toString)
                    .collect(Collectors.joining("; ")));
        }
        if (!ref.value().equals(m.itemHash())) {
            throw new InvalidStoreMessageException(ref, "the remote answered with message " + m.itemHash());
        }
        if (m.messageType().orElse(null) != MessageType.STORE) {
            throw new InvalidStoreMessageException(ref, "it is a " + m.type() + " message, not STORE");
        }
        try {
            return StoreRecord.of(m, json);
        } catch (IllegalArgumentException e) {
            throw new InvalidStoreMessageException(ref, e.getMessage());
        }
    }
}
