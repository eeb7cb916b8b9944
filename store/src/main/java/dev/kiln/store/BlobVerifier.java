package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hashes stored files and remembers which blobs were verified, so that {@link BlobStore#path}
 * need not re-hash a file that has not changed. A verification is remembered only if it began
 * well after the file's last change ({@code racyWindow}): a write in the same clock tick as the
 * check would otherwise leave a stamp that looks unchanged over different bytes.
 */
final class BlobVerifier {
    private static final int BUFFER = 128 * 1024;

    /** What a file's bytes hash to, and how many there were. */
    record Digest(ItemHash hash, long size) {}

    private final Duration racyWindow;
    private final ConcurrentHashMap<ItemHash, FileStamp> verifiedStamps = new ConcurrentHashMap<>();
    private final AtomicLong fullVerifications = new AtomicLong();

    BlobVerifier(Duration racyWindow) {
        this.racyWindow = racyWindow;
    }

    /** Hashes a whole file; {@code force} also flushes it to disk (for files about to be installed). */
    static Digest digest(Path file, boolean force) throws IOException {
        MessageDigest md = ItemHash.newDigest();
        long size = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(BUFFER);
            for (int n; (n = ch.read(buf.clear())) != -1; ) {
                md.update(buf.flip());
                size += n;
            }
            if (force) ch.force(true);
        }
        return new Digest(ItemHash.ofSha256(md.digest()), size);
    }

    /** True if the blob was verified while its file looked exactly like {@code stamp}. */
    boolean trusted(ItemHash hash, FileStamp stamp) {
        return stamp.equals(verifiedStamps.get(hash));
    }

    /** The blob's file was replaced, removed or found bad: verify it again next time. */
    void forget(ItemHash hash) {
        verifiedStamps.remove(hash);
    }

    /**
     * Hashes the blob's file {@code p}, seen as {@code before}; if it matches and the file did not
     * change meanwhile, remembers it as verified.
     *
     * @return the file's digest; its hash differs from {@code hash} if the blob is corrupted
     * @throws java.nio.file.NoSuchFileException if the file is gone
     */
    Digest check(ItemHash hash, Path p, FileStamp before) throws IOException {
        Instant started = Instant.now();
        Digest d = digest(p, false);
        fullVerifications.incrementAndGet();
        if (d.hash().equals(hash)) {
            FileStamp after = FileStamp.read(p);
            if (after.equals(before) && before.settledBefore(started.minus(racyWindow))) verifiedStamps.put(hash, before);
        }
        return d;
    }

    long fullVerifications() {
        return fullVerifications.get();
    }
}
