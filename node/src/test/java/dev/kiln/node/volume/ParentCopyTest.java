package dev.kiln.node.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent volume made from its parent with the real e2fsprogs: the parent's files are in the
 * copy, the copy's filesystem has the volume's size and is clean, the parent is untouched; parents
 * that are not ext4 or bigger than the volume are refused with the reason. (That a VM sees the
 * files is PersistentVolumeTest's.)
 */
class ParentCopyTest {
    @TempDir
    Path dir;

    Path parentWith(String file, String text, long sizeMib) throws Exception {
        Path content = Files.createDirectories(dir.resolve("content"));
        Files.writeString(content.resolve(file), text);
        Path parent = dir.resolve("parent.ext4");
        try (var raf = new java.io.RandomAccessFile(parent.toFile(), "rw")) {
            raf.setLength(sizeMib << 20);
        }
        Ext4Images.run(List.of(Ext4Images.tool("mkfs.ext4").toString(), "-q", "-F", "-d", content.toString(),
                parent.toString()), "mkfs.ext4 -d");
        return parent;
    }

    static String debugfs(Path image, String request) throws Exception {
        return Ext4Images.run(List.of(Ext4Images.tool("debugfs").toString(), "-R", request, image.toString()), "debugfs");
    }

    @Test
    void theCopyHasTheParentsFilesAndTheVolumesSize() throws Exception {
        Path parent = parentWith("seed.txt", "from the parent", 8);
        byte[] before = Files.readAllBytes(parent);
        Path image = dir.resolve("volumes/owner/data.ext4");

        ParentCopy.create(parent, image, 32, "data");

        assertThat(Files.size(image)).isEqualTo(32L << 20);
        assertThat(debugfs(image, "cat /seed.txt")).contains("from the parent");
        String stats = debugfs(image, "stats");
        long blocks = Long.parseLong(stats.replaceAll("(?s).*Block count:\\s+(\\d+).*", "$1"));
        long blockSize = Long.parseLong(stats.replaceAll("(?s).*Block size:\\s+(\\d+).*", "$1"));
        assertThat(blocks * blockSize).as("the filesystem was grown, not just the file").isEqualTo(32L << 20);
        assertThat(Ext4Images.status(List.of(Ext4Images.tool("e2fsck").toString(), "-f", "-n", image.toString()),
                "e2fsck -n")).isZero();
        assertThat(Files.readAllBytes(parent)).as("the parent is not modified").isEqualTo(before);
        assertThat(image.resolveSibling("data.ext4.new")).doesNotExist();
    }

    @Test
    void aParentBiggerThanTheVolumeIsRefused() throws Exception {
        Path parent = parentWith("seed.txt", "x", 16);
        assertThatThrownBy(() -> ParentCopy.create(parent, dir.resolve("v.ext4"), 8, "data"))
                .hasMessageContaining("16 MiB, more than size_mib 8");
        assertThat(dir.resolve("v.ext4")).doesNotExist();
    }

    @Test
    void aSquashfsOrUnknownParentIsRefusedNamingWhatItIs() throws Exception {
        Path squash = Files.write(dir.resolve("p.squashfs"), new byte[] {'h', 's', 'q', 's', 0, 0, 0, 0});
        assertThatThrownBy(() -> ParentCopy.create(squash, dir.resolve("v.ext4"), 8, "data"))
                .hasMessageContaining("a squashfs file, not an ext4 image");
        Path text = Files.writeString(dir.resolve("p.txt"), "hello");
        assertThatThrownBy(() -> ParentCopy.create(text, dir.resolve("v.ext4"), 8, "data"))
                .hasMessageContaining("an unknown file");
    }
}
