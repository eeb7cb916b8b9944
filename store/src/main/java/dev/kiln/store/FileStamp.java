package dev.kiln.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What the filesystem says about a file without reading it. Any write, chmod or replacement of a
 * blob changes at least one of these fields: a replacement changes the inode (file key), a write
 * changes mtime and ctime, and ctime cannot be set back by user space.
 *
 * @param changed ctime, or null where the platform does not expose it (then nothing is trusted)
 */
record FileStamp(Object fileKey, long size, FileTime modified, FileTime changed) {

    static FileStamp read(Path p) throws IOException {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:fileKey,size,lastModifiedTime,ctime,isRegularFile");
            requireRegular(p, (Boolean) a.get("isRegularFile"));
            return new FileStamp(a.get("fileKey"), (Long) a.get("size"),
                    (FileTime) a.get("lastModifiedTime"), (FileTime) a.get("ctime"));
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            requireRegular(p, a.isRegularFile());
            return new FileStamp(a.fileKey(), a.size(), a.lastModifiedTime(), null);
        }
    }

    private static void requireRegular(Path p, Boolean regular) throws IOException {
        if (!Boolean.TRUE.equals(regular)) {
            throw new IOException(p + " is not a regular file: the store does not know how it got there;"
                    + " move it away and run 'kiln store verify --all'");
        }
    }

    /**
     * True if the file was last touched clearly before {@code t}. Timestamps are coarse (a kernel
     * tick), so a change made just after a verification may carry the same stamp: like git's
     * "racily clean" index entries, a stamp that recent is not trusted.
     */
    boolean settledBefore(Instant t) {
        return changed != null && fileKey != null
                && changed.toInstant().isBefore(t) && modified.toInstant().isBefore(t);
    }

    boolean sameFile(FileStamp other) {
        return other != null && fileKey != null && Objects.equals(fileKey, other.fileKey);
    }
}
