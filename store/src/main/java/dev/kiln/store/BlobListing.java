package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What the blob directory holds: its shard directories read as they are, while other processes may
 * be adding and removing blobs. Files that are not named like a blob of their shard are skipped.
 */
final class BlobListing {
    private BlobListing() {
    }

    /** Every blob under {@code blobs} ({@code <home>/blobs/sha256}), sorted by hash, not verified. */
    static List<BlobInfo> of(Path blobs) throws IOException {
        List<BlobInfo> out = new ArrayList<>();
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(blobs, Files::isDirectory)) {
            for (Path shard : shards) {
                String prefix = shard.getFileName().toString();
                try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (!isBlobName(name, prefix)) continue;
                        try {
                            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                            if (a.isRegularFile()) {
                                out.add(new BlobInfo(ItemHash.parse(name), a.size(), a.lastModifiedTime().toInstant()));
                            }
                        } catch (NoSuchFileException removedMeanwhile) {
                            // listing is a snapshot of a live directory
                        }
                    }
                } catch (NoSuchFileException shardRemoved) {
                    // as above
                }
            }
        }
        out.sort(Comparator.comparing(BlobInfo::hash));
        return out;
    }

    private static boolean isBlobName(String name, String shard) {
        if (name.length() != 64 || !name.startsWith(shard) || shard.length() != 2) return false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        }
        return true;
    }
}
