package dev.kiln.node.volume;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The superblock flags that decide whether a volume needs e2fsck, on a real mkfs.ext4 image. */
class Ext4StateTest {
    @TempDir
    Path dir;

    @Test
    void aFreshFilesystemIsCleanAndOneLeftMountedOrWithErrorsIsNot() throws Exception {
        Path image = dir.resolve("v.ext4");
        Ext4Images.create(image, 8, true);
        assertThat(Ext4State.cleanlyDetached(image)).isTrue();

        // What the kernel writes when it mounts the journaled filesystem read-write.
        setBits(image, 1024 + 0x60, 0x04);
        assertThat(Ext4State.cleanlyDetached(image)).as("needs_recovery").isFalse();

        Ext4Images.create(image, 8, true);
        setBits(image, 1024 + 0x3A, 0x02);
        assertThat(Ext4State.cleanlyDetached(image)).as("errors recorded").isFalse();
    }

    @Test
    void somethingElseIsNeverTakenForClean() throws Exception {
        assertThat(Ext4State.cleanlyDetached(Files.write(dir.resolve("zeros"), new byte[4096]))).isFalse();
        assertThat(Ext4State.cleanlyDetached(dir.resolve("missing"))).isFalse();
    }

    static void setBits(Path image, long offset, int bits) throws Exception {
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b | bits);
        }
    }
}
