package dev.kiln.node.volume;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * What an ext4 image's superblock says about its last detach. The kernel sets
 * {@code needs_recovery} when it mounts a journaled filesystem read-write and clears it only on
 * unmount (or remount read-only); a QEMU killed, or quit through QMP, or powered off with the
 * volume still mounted leaves it set. So the image itself, not the way its VM ended, tells whether
 * the next attach must check it first.
 */
final class Ext4State {
    private static final int SUPERBLOCK = 1024;
    private static final int S_STATE = 0x3A;
    private static final int S_FEATURE_INCOMPAT = 0x60;
    private static final int STATE_VALID = 0x0001;
    private static final int STATE_ERRORS = 0x0002;
    private static final int INCOMPAT_RECOVER = 0x0004;

    private Ext4State() {}

    /** True if the filesystem was unmounted cleanly and has no recorded errors; false if unsure. */
    static boolean cleanlyDetached(Path image) {
        byte[] sb = new byte[256];
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "r")) {
            if (raf.length() < SUPERBLOCK + sb.length) return false;
            raf.seek(SUPERBLOCK);
            raf.readFully(sb);
        } catch (IOException e) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(sb).order(ByteOrder.LITTLE_ENDIAN);
        if ((b.getShort(0x38) & 0xffff) != 0xEF53) return false;
        int state = b.getShort(S_STATE) & 0xffff;
        int incompat = b.getInt(S_FEATURE_INCOMPAT);
        return (state & STATE_VALID) != 0 && (state & STATE_ERRORS) == 0 && (incompat & INCOMPAT_RECOVER) == 0;
    }
}
