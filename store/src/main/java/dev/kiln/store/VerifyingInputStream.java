package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * Hashes a blob's bytes as they are read and, at end of file, fails the read instead of
 * signalling EOF if they do not match. Extends InputStream rather than FilterInputStream so that
 * no inherited shortcut (skip, transferTo) can bypass the digest.
 */
final class VerifyingInputStream extends InputStream {

    /** Called once on mismatch; quarantines the blob and says where it went. */
    interface MismatchHandler {
        Corruption onMismatch(ItemHash actual, long size) throws IOException;
    }

    private final InputStream in;
    private final ItemHash expected;
    private final MismatchHandler onMismatch;
    private final MessageDigest md = ItemHash.newDigest();
    private long size;
    private boolean verified;
    private IOException failure;

    VerifyingInputStream(InputStream in, ItemHash expected, MismatchHandler onMismatch) {
        this.in = in;
        this.expected = expected;
        this.onMismatch = onMismatch;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (failure != null) throw failure;
        if (len == 0) return 0;
        int n = in.read(b, off, len);
        if (n > 0) {
            md.update(b, off, n);
            size += n;
        } else if (n == -1) {
            finish();
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must still be hashed, or the end-of-file check would be meaningless.
        byte[] scratch = new byte[(int) Math.min(Math.max(n, 0), 64 * 1024)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
            if (r == -1) break;
            skipped += r;
        }
        return skipped;
    }

    @Override
    public int available() throws IOException {
        return failure != null ? 0 : in.available();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private void finish() throws IOException {
        if (verified) return;
        ItemHash actual = ItemHash.ofSha256(md.digest());
        if (actual.equals(expected)) {
            verified = true;
            return;
        }
        try {
            failure = new CorruptBlobException(onMismatch.onMismatch(actual, size));
        } catch (IOException quarantineFailed) {
            // Still never report a clean end of file for these bytes.
            failure = quarantineFailed;
        }
        throw failure;
    }
}
