package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The local content-addressed store: files named by the SHA-256 of their bytes, under
 * {@code <home>/blobs/sha256/<first two hex digits>/<hash>}, read-only, written atomically.
 *
 * <p>Nothing enters without being hashed on the way in, and nothing leaves unverified: streams
 * from {@link #open} check the hash at end of file, {@link #path} checks before returning. A blob
 * that fails is moved to {@code <home>/quarantine} and never served again. docs/store.md explains
 * the layout, the write protocol and the verification policy.
 *
 * <p>Thread-safe, and safe with other processes using the same home: writers never share a temp
 * file, and installing is a rename. The only locks are per-hash stripes around rename/quarantine,
 * so work on different items never waits on a shared lock.
 */
public final class BlobStore {

    /** How long after its last change a blob's stamp is trusted as proof that it is still verified. */
    static final Duration RACY_WINDOW = Duration.ofSeconds(2);
    /** Temp files older than this are leftovers of a crashed process (live writes keep touching theirs). */
    static final Duration STALE_TEMP_AGE = Duration.ofHours(24);

    static final String PUT_PREFIX = "put-";
    static final String DOWNLOAD_PREFIX = "download-";
    static final String TEMP_SUFFIX = ".part";

    private static final int BUFFER = 128 * 1024;

    private final Path blobs;
    private final Path tmp;
    private final Quarantine quarantine;
    private final BlobVerifier verifier;
    private final ReentrantLock[] stripes = new ReentrantLock[64];

    private BlobStore(KilnHome home, Duration racyWindow) throws IOException {
        this.blobs = home.blobs().resolve("sha256");
        this.tmp = home.tmp();
        this.quarantine = new Quarantine(home.quarantine());
        this.verifier = new BlobVerifier(racyWindow);
        for (int i = 0; i < stripes.length; i++) stripes[i] = new ReentrantLock();
        home.create();
        FileSystemSupport.createDirectoriesDurably(blobs);
        FileSystemSupport.createDirectoriesDurably(tmp);
        FileSystemSupport.createDirectoriesDurably(quarantine.directory());
        removeStaleTemps();
    }

    /** Opens (creating if needed) the store under a Kiln home. */
    public static BlobStore open(KilnHome home) throws IOException {
        return new BlobStore(home, RACY_WINDOW);
    }

    /** For tests: a store that trusts verification stamps after {@code racyWindow}. */
    static BlobStore open(KilnHome home, Duration racyWindow) throws IOException {
        return new BlobStore(home, racyWindow);
    }

    // ---------------------------------------------------------------- writing

    /** Copies a file into the store and returns its item hash. The source is left in place. */
    public ItemHash put(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return write(in, null, file.toString());
        }
    }

    /** Stores everything {@code in} yields and returns its item hash. Does not close {@code in}. */
    public ItemHash put(InputStream in) throws IOException {
        return write(in, null, "a stream");
    }

    /**
     * Stores {@code in} only if its bytes hash to {@code expected}; otherwise nothing is stored and
     * {@link HashMismatchException} is thrown. Does not close {@code in}.
     */
    public ItemHash put(InputStream in, ItemHash expected) throws IOException {
        UnverifiableHashException.requireSha256(expected);
        return write(in, expected, "a stream");
    }

    /**
     * Moves a finished temp file (from {@link #newTempFile}) into the store if it hashes to
     * {@code expected}; the file is consumed either way. Used for downloads, which are already
     * on the store's filesystem: re-hashing here keeps the store the only gate, at the cost of one
     * local read.
     */
    Path adopt(Path tempFile, ItemHash expected, String source) throws IOException {
        UnverifiableHashException.requireSha256(expected);
        boolean installed = false;
        try {
            BlobVerifier.Digest d = BlobVerifier.digest(tempFile, true);
            if (!d.hash().equals(expected)) {
                throw new HashMismatchException(expected, d.hash(), d.size(), source,
                        "The file changed after it was downloaded; try again.");
            }
            Path target = install(expected, tempFile);
            installed = true;
            return target;
        } finally {
            if (!installed) Files.deleteIfExists(tempFile);
        }
    }

    /** A new empty private file in the store's temp directory, on the same filesystem as the blobs. */
    Path newTempFile(String prefix) throws IOException {
        return Files.createTempFile(tmp, prefix, TEMP_SUFFIX);
    }

    private ItemHash write(InputStream in, ItemHash expected, String source) throws IOException {
        Path temp = newTempFile(PUT_PREFIX);
        boolean installed = false;
        try {
            MessageDigest md = ItemHash.newDigest();
            long size = 0;
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[BUFFER];
                for (int n; (n = in.read(buf)) != -1; ) {
                    md.update(buf, 0, n);
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) out.write(bb);
                    size += n;
                }
                out.force(true);
            }
            ItemHash actual = ItemHash.ofSha256(md.digest());
            if (expected != null && !expected.equals(actual)) {
                throw new HashMismatchException(expected, actual, size, source,
                        "Check that these are the bytes you meant, or the item hash.");
            }
            install(actual, temp);
            installed = true;
            return actual;
        } finally {
            if (!installed) Files.deleteIfExists(temp);
        }
    }

    /**
     * The commit point: rename(2) of a flushed, read-only temp file onto the blob's name, then an
     * fsync of the shard directory. Two writers of the same content both succeed; the later rename
     * replaces an identical file (or heals a corrupted one), and readers holding the earlier file
     * open keep reading it.
     */
    private Path install(ItemHash hash, Path temp) throws IOException {
        FileSystemSupport.makeReadOnly(temp);
        Path target = locate(hash);
        ReentrantLock lock = stripe(hash);
        lock.lock();
        try {
            FileSystemSupport.createDirectoriesDurably(target.getParent());
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException sameContent) {
                // Platforms whose atomic rename does not replace: the existing file has the same name,
                // hence (unless corrupted, which reads catch) the same bytes.
                Files.deleteIfExists(temp);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + temp + " to " + target + " atomically: the tmp and blobs"
                        + " directories of the Kiln home must be on the same filesystem", e);
            }
            FileSystemSupport.fsyncDirectory(target.getParent());
            verifier.forget(hash);
            return target;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- reading

    /** True if a blob with this hash is present (not verified; CIDs are never present). */
    public boolean has(ItemHash hash) {
        return hash.isSha256() && Files.isRegularFile(locate(hash));
    }

    /**
     * A stream over the blob's bytes that verifies the hash as it goes: at end of file a mismatch
     * quarantines the blob and the read throws {@link CorruptBlobException} instead of returning
     * -1. Consumers must therefore read to the end before trusting what they read; those that act
     * on bytes as they arrive should use {@link #path} instead, which verifies first.
     */
    public InputStream open(ItemHash hash) throws IOException {
        UnverifiableHashException.requireSha256(hash);
        Path p = locate(hash);
        try {
            FileStamp stamp = FileStamp.read(p);
            InputStream in = Files.newInputStream(p);
            return new VerifyingInputStream(in, hash,
                    (actual, size) -> quarantine(hash, stamp, actual, size));
        } catch (NoSuchFileException e) {
            throw notFound(hash);
        }
    }

    /**
     * The blob's path, verified, for consumers that open it themselves (QEMU). The first call
     * hashes the whole file; later calls skip the hash while the file's inode, size, mtime and
     * ctime are unchanged since a verification that began well after the file's last change.
     */
    public Path path(ItemHash hash) throws IOException {
        UnverifiableHashException.requireSha256(hash);
        Path p = locate(hash);
        FileStamp stamp = stampOrNotFound(hash, p);
        if (verifier.trusted(hash, stamp)) return p;
        check(hash, p, stamp);
        return p;
    }

    /** Re-hashes one blob now, whatever was verified before; quarantines and throws if it is corrupted. */
    public BlobInfo verify(ItemHash hash) throws IOException {
        UnverifiableHashException.requireSha256(hash);
        Path p = locate(hash);
        FileStamp stamp = stampOrNotFound(hash, p);
        check(hash, p, stamp);
        return new BlobInfo(hash, stamp.size(), stamp.modified().toInstant());
    }

    /** Re-hashes every blob; corrupted ones are quarantined and listed in the report. */
    public VerifyReport verifyAll() throws IOException {
        int ok = 0;
        long bytes = 0;
        List<Corruption> corrupted = new ArrayList<>();
        for (BlobInfo b : list()) {
            try {
                bytes += verify(b.hash()).size();
                ok++;
            } catch (CorruptBlobException e) {
                corrupted.add(e.corruption());
            } catch (BlobNotFoundException removedMeanwhile) {
                // another process removed it between the listing and the check: nothing to verify
            }
        }
        return new VerifyReport(ok, bytes, corrupted);
    }

    /** Every blob in the store, sorted by hash (not verified). Stray files are skipped. */
    public List<BlobInfo> list() throws IOException {
        return BlobListing.of(blobs);
    }

    /** Deletes a blob; returns false if it was not there. Readers that already opened it keep their copy. */
    public boolean remove(ItemHash hash) throws IOException {
        if (!hash.isSha256()) return false;
        ReentrantLock lock = stripe(hash);
        lock.lock();
        try {
            verifier.forget(hash);
            return Files.deleteIfExists(locate(hash));
        } finally {
            lock.unlock();
        }
    }

    /** Where a blob with this hash lives (whether or not it exists). */
    Path locate(ItemHash hash) {
        String v = hash.value();
        return blobs.resolve(v.substring(0, 2)).resolve(v);
    }

    Path tmpDir() {
        return tmp;
    }

    Path quarantineDir() {
        return quarantine.directory();
    }

    /** How many times a whole blob was hashed by {@link #path}/{@link #verify}; lets tests see the cache work. */
    long fullVerifications() {
        return verifier.fullVerifications();
    }

    // ---------------------------------------------------------------- verification (see BlobVerifier, Quarantine)

    private void check(ItemHash hash, Path p, FileStamp before) throws IOException {
        BlobVerifier.Digest d;
        try {
            d = verifier.check(hash, p, before);
        } catch (NoSuchFileException e) {
            throw notFound(hash);
        }
        if (!d.hash().equals(hash)) throw new CorruptBlobException(quarantine(hash, before, d.hash(), d.size()));
    }

    /**
     * Moves a blob found corrupted out of the store, so it is never served and the next use fetches
     * it again. Only the file that was found bad is moved: if it was replaced meanwhile (a fresh
     * put renamed a good copy over it) the new file is left alone.
     */
    private Corruption quarantine(ItemHash hash, FileStamp seen, ItemHash actual, long size) throws IOException {
        ReentrantLock lock = stripe(hash);
        lock.lock();
        try {
            verifier.forget(hash);
            Path p = locate(hash);
            FileStamp now;
            try {
                now = FileStamp.read(p);
            } catch (NoSuchFileException alreadyMoved) {
                return new Corruption(hash, actual, size, null);
            }
            if (!now.sameFile(seen)) {
                return new Corruption(hash, actual, size, null);
            }
            return new Corruption(hash, actual, size, quarantine.take(hash, p));
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- housekeeping

    private void removeStaleTemps() throws IOException {
        Instant cutoff = Instant.now().minus(STALE_TEMP_AGE);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                boolean ours = (name.startsWith(PUT_PREFIX) || name.startsWith(DOWNLOAD_PREFIX)) && name.endsWith(TEMP_SUFFIX);
                try {
                    if (ours && Files.getLastModifiedTime(f).toInstant().isBefore(cutoff)) {
                        Files.deleteIfExists(f);
                    }
                } catch (NoSuchFileException gone) {
                    // another process cleaned it first
                }
            }
        }
    }

    private FileStamp stampOrNotFound(ItemHash hash, Path p) throws IOException {
        try {
            return FileStamp.read(p);
        } catch (NoSuchFileException e) {
            throw notFound(hash);
        }
    }

    private BlobNotFoundException notFound(ItemHash hash) {
        return new BlobNotFoundException(hash, "add the file to the store, or configure a remote (--remote or"
                + " KILN_REMOTE) so Kiln can fetch it");
    }

    private ReentrantLock stripe(ItemHash hash) {
        return stripes[Math.floorMod(hash.hashCode(), stripes.length)];
    }
}
