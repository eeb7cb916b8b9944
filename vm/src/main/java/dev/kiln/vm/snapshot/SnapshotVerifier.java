package dev.kiln.vm.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a snapshot's files against their manifest hashes before QEMU may load them.
 *
 * <p>Hashing a RAM file costs about as long as a restore, so each file is hashed once and the hash
 * remembered for its inode, size and modification time: later checks of an unchanged file cost a
 * {@code stat}, and the hash a save computed serves the first restore too (the store renames the
 * directory; the inode stays). Writing to a file changes its modification time, so a file damaged
 * after its first check is hashed again. (This guards against damage and bugs, not against someone
 * who can write the store and also sets the time back.)
 */
public final class SnapshotVerifier {
    private static final SnapshotVerifier SHARED = new SnapshotVerifier();

    private record Identity(long size, FileTime modified) {}

    private record Known(Identity identity, String sha256) {}

    private final Map<Object, Known> known = new ConcurrentHashMap<>();

    /** The verifier of this JVM: its memory of hashed files serves every launcher and store. */
    public static SnapshotVerifier shared() {
        return SHARED;
    }

    /**
     * @throws SnapshotException MISSING if a file is gone, CORRUPT if a size or hash differs
     */
    public void verify(Snapshot snapshot) throws SnapshotException {
        Objects.requireNonNull(snapshot, "snapshot");
        for (Map.Entry<String, SnapshotManifest.FileIdentity> f : snapshot.manifest().files().entrySet()) {
            Path file = snapshot.directory().resolve(f.getKey());
            SnapshotManifest.FileIdentity expected = f.getValue();
            long size;
            try {
                size = Files.size(file);
            } catch (IOException e) {
                throw new SnapshotException(SnapshotException.Reason.MISSING, "snapshot file " + file + " is missing", e);
            }
            if (size != expected.size()) {
                throw new SnapshotException(SnapshotException.Reason.CORRUPT, "snapshot file " + file + " has " + size
                        + " bytes, its manifest says " + expected.size());
            }
            String actual;
            try {
                actual = sha256(file);
            } catch (IOException e) {
                throw new SnapshotException(SnapshotException.Reason.MISSING, "cannot read snapshot file " + file + ": " + e.getMessage(), e);
            }
            if (!actual.equals(expected.sha256())) {
                throw new SnapshotException(SnapshotException.Reason.CORRUPT, "snapshot file " + file + " has SHA-256 " + actual
                        + ", its manifest says " + expected.sha256() + ": it was altered or damaged");
            }
        }
    }

    /** The SHA-256 (hex) of a file, hashed only if this file was not hashed since it last changed. */
    public String sha256(Path file) throws IOException {
        BasicFileAttributes before = Files.readAttributes(file, BasicFileAttributes.class);
        Object inode = before.fileKey() != null ? before.fileKey() : file.toAbsolutePath().normalize();
        Identity id = new Identity(before.size(), before.lastModifiedTime());
        Known k = known.get(inode);
        if (k != null && k.identity().equals(id)) return k.sha256();
        String h = FileDigest.sha256(file);
        BasicFileAttributes after = Files.readAttributes(file, BasicFileAttributes.class);
        // Remembered only if the file did not change while it was read.
        if (new Identity(after.size(), after.lastModifiedTime()).equals(id)) known.put(inode, new Known(id, h));
        return h;
    }
}
