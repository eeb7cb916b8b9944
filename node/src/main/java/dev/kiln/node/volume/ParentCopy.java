package dev.kiln.node.volume;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A persistent volume's first image made from its {@code parent}: a copy of the parent's ext4
 * filesystem grown to the volume's {@code size_mib}, as aleph's supervisor does (it checks the
 * copy with e2fsck, then resize2fs). The parent must be an ext2/3/4 image; a squashfs one is refused
 * rather than unpacked, since unpacking it as an ordinary user would lose its files' owners.
 *
 * <p>The copy is made beside the image and moved into place only when complete, so a node killed
 * half-way leaves no half-made volume that would pass for the real one.
 */
final class ParentCopy {
    /** ext2/3/4 superblock magic 0xEF53, little-endian at byte 1024 + 56. */
    private static final long MAGIC_OFFSET = 1080;
    private static final byte[] SQUASHFS_MAGIC = {'h', 's', 'q', 's'};

    private ParentCopy() {}

    static void create(Path parent, Path image, long sizeMib, String name) throws VolumeException {
        long size = sizeMib * 1024 * 1024;
        String kind = kind(parent);
        if (!kind.equals("ext")) {
            String what = kind.equals("unknown") ? "an unknown" : "a " + kind;
            throw new VolumeException("persistent volume '" + name + "': its parent is " + what + " file, not an ext4"
                    + " image; a persistent volume starts as a copy of an ext4 filesystem (make one with mkfs.ext4 -d DIR)", null);
        }
        Path tmp = image.resolveSibling(image.getFileName() + ".new");
        try {
            long parentSize = Files.size(parent);
            if (parentSize > size) {
                throw new VolumeException("persistent volume '" + name + "': its parent image is " + (parentSize >> 20)
                        + " MiB, more than size_mib " + sizeMib + "; a volume is never smaller than its parent", null);
            }
            Files.createDirectories(image.toAbsolutePath().getParent());
            Files.copy(parent, tmp, StandardCopyOption.REPLACE_EXISTING);
            try (RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw")) {
                raf.setLength(size);
            }
            // resize2fs insists on a freshly checked filesystem.
            int status = Ext4Images.status(List.of(Ext4Images.tool("e2fsck").toString(), "-f", "-p", tmp.toString()),
                    "e2fsck -f -p on the copy of the parent of '" + name + "'");
            if (status > 2) {
                throw new VolumeException("persistent volume '" + name + "': its parent image has filesystem errors"
                        + " e2fsck -p will not fix (exit " + status + "); repair the parent and publish it again", null);
            }
            Ext4Images.run(List.of(Ext4Images.tool("resize2fs").toString(), tmp.toString()),
                    "resize2fs of the copy of the parent of '" + name + "'");
            Files.move(tmp, image, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new VolumeException("persistent volume '" + name + "' could not be copied from its parent: "
                    + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a stale .new is replaced by the next attempt
            }
        }
    }

    /** "ext", "squashfs" or "unknown": read from the file's magic numbers, not its name. */
    static String kind(Path file) throws VolumeException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            byte[] head = new byte[4];
            if (raf.length() >= 4) {
                raf.readFully(head);
                if (java.util.Arrays.equals(head, SQUASHFS_MAGIC)) return "squashfs";
            }
            if (raf.length() >= MAGIC_OFFSET + 2) {
                raf.seek(MAGIC_OFFSET);
                if (raf.read() == 0x53 && raf.read() == 0xEF) return "ext";
            }
            return "unknown";
        } catch (IOException e) {
            throw new VolumeException("cannot read the parent image " + file + ": " + e.getMessage(), e);
        }
    }
}
