package dev.kiln.node.volume;

import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Ephemeral volumes: a fresh empty ext4 image per VM, made in the VM's work directory and removed
 * when the VM has exited, whatever its end (a failed VM's directory is otherwise kept for its
 * story, and a scratch image can be up to 1000 MiB).
 */
public final class ScratchVolumes {
    /** Drive ids of scratch images start with this; nothing else the node attaches does. */
    static final String DRIVE_PREFIX = "scratch";

    private ScratchVolumes() {}

    /** A writable drive holding a new empty filesystem of {@code sizeMib} MiB. */
    public static Drive create(Path workDir, int index, long sizeMib) throws VolumeException {
        String id = DRIVE_PREFIX + index;
        Path file = workDir.resolve(id + ".ext4");
        Ext4Images.create(file, sizeMib, false);
        return new Drive(id, file, false);
    }

    /**
     * The drive {@link #create} made for {@code index} in {@code workDir}, without making anything:
     * for a VM that outlived the process that started it (an instance re-adopted by a new node),
     * so that its end still discards the image.
     */
    public static Drive existing(Path workDir, int index) {
        String id = DRIVE_PREFIX + index;
        return new Drive(id, workDir.resolve(id + ".ext4"), false);
    }

    /** Removes the scratch images of an exited VM; true if none is left. */
    public static boolean discard(VmSpec spec) {
        return discard(spec.drives());
    }

    /** Removes the scratch images among {@code drives}; true if none is left. */
    public static boolean discard(List<Drive> drives) {
        boolean all = true;
        for (Drive d : drives) {
            if (!d.id().startsWith(DRIVE_PREFIX) || d.readOnly()) continue;
            try {
                Files.deleteIfExists(d.file());
            } catch (IOException e) {
                all = false;
            }
        }
        return all;
    }
}
