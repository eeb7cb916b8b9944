package dev.kiln.node.volume;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;

/**
 * One persistent volume as listed by {@code kiln volume list} and {@code /about/volumes}.
 *
 * @param usedBytes  what its filesystem holds, from the ext4 superblock (as of the last unmount
 *                   or sync; -1 if the superblock cannot be read)
 * @param attachedTo the VM using it now, or null (always null when read without a node)
 * @param dirty      not cleanly detached: checked with e2fsck before the next attach
 */
public record VolumeInfo(String owner, String name, long sizeMib, long usedBytes, String attachedTo, boolean dirty,
                         Path image) {

    /** The fields {@code /about/volumes} and {@code kiln volume list --json} share, written into {@code o}. */
    public ObjectNode writeTo(ObjectNode o) {
        o.put("owner", owner);
        o.put("name", name);
        o.put("size_mib", sizeMib);
        o.put("used_bytes", usedBytes);
        o.put("dirty", dirty);
        return o;
    }
}
