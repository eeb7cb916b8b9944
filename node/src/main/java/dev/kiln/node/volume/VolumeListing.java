package dev.kiln.node.volume;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reads the persistent volumes kept under a directory, without needing a running node. */
public final class VolumeListing {
    private static final String SUFFIX = ".ext4";
    private static final int SUPERBLOCK = 1024;

    private VolumeListing() {}

    /** Every volume under {@code root}, by owner then name; {@code claims} maps images to their VM. */
    public static List<VolumeInfo> list(Path root, Map<Path, String> claims) throws IOException {
        List<VolumeInfo> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (Stream<Path> owners = Files.list(root)) {
            for (Path owner : owners.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> images = Files.list(owner)) {
                    for (Path image : images.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList()) {
                        String file = image.getFileName().toString();
                        out.add(new VolumeInfo(owner.getFileName().toString(),
                                file.substring(0, file.length() - SUFFIX.length()), Files.size(image) >> 20,
                                usedBytes(image), claims.get(image), PersistentVolumes.isDirty(image), image));
                    }
                }
            }
        }
        out.sort(Comparator.comparing(VolumeInfo::owner).thenComparing(VolumeInfo::name));
        return out;
    }

    /** (blocks − free blocks) × block size, from the ext4 superblock's little-endian counters. */
    static long usedBytes(Path image) {
        ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            if (ch.read(sb, SUPERBLOCK) < 1024) return -1;
        } catch (IOException e) {
            return -1;
        }
        if ((sb.getShort(0x38) & 0xffff) != 0xEF53) return -1;
        boolean is64 = (sb.getInt(0x60) & 0x80) != 0; // INCOMPAT_64BIT: the counters have high halves
        long blocks = Integer.toUnsignedLong(sb.getInt(0x04)) | (is64 ? Integer.toUnsignedLong(sb.getInt(0x150)) << 32 : 0);
        long free = Integer.toUnsignedLong(sb.getInt(0x0C)) | (is64 ? Integer.toUnsignedLong(sb.getInt(0x158)) << 32 : 0);
        long blockSize = 1024L << sb.getInt(0x18);
        return (blocks - free) * blockSize;
    }
}
