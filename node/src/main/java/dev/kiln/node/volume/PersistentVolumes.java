package dev.kiln.node.volume;

import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Persistent volumes with {@code persistence: host}: one ext4 image per (owner address, volume
 * name) under {@code root}, kept across VM stops, node restarts and program amends.
 *
 * <p>A volume is attached to at most one running VM: a second start that needs it is refused at
 * once ({@link InUseException}, the node's 409) rather than queued, because the first VM may stay
 * warm for a long time and a queued request would only time out. The claim is per image (a
 * concurrent map entry), so volumes of different programs never wait on each other.
 *
 * <p>While attached, a {@code .dirty} file sits beside the image; it is removed only after the
 * VM has stopped cleanly and the image's superblock confirms the guest unmounted it (the agent
 * syncs and unmounts writable volumes at halt). An image found dirty — its QEMU was killed, or
 * the node was, or the guest could not unmount it — is checked with {@code e2fsck -p} before it
 * is attached again.
 */
public final class PersistentVolumes {
    /** Owners are aleph addresses; anything else could not be a directory name safely. */
    private static final Pattern OWNER = Pattern.compile("[A-Za-z0-9]{1,128}");
    static final String DRIVE_PREFIX = "persist";

    private final Path root;
    private final Map<Path, String> claims = new ConcurrentHashMap<>();

    public PersistentVolumes(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Thrown when the volume is attached to another running VM. */
    public static final class InUseException extends VolumeException {
        InUseException(String message) {
            super(message, null);
        }
    }

    /** The image of (owner, name); existing or not. */
    public Path image(String owner, String name) throws VolumeException {
        if (owner == null || !OWNER.matcher(owner).matches()) {
            throw new VolumeException("the program's owner address '" + owner + "' cannot name a volume directory"
                    + " (letters and digits only)", null);
        }
        return root.resolve(owner.toLowerCase(Locale.ROOT)).resolve(name + ".ext4");
    }

    /** {@link #attach(String, String, long, Path, String, int)} of a volume without parent. */
    public Drive attach(String owner, String name, long sizeMib, String vmName, int index) throws VolumeException {
        return attach(owner, name, sizeMib, null, vmName, index);
    }

    /**
     * Claims the volume for the VM {@code vmName}, creating it on first use (empty, or a copy of
     * {@code parent} grown to {@code sizeMib}) and checking it after an unclean stop, and returns
     * its writable drive. The parent matters only the first time: afterwards the volume is the
     * program's own, as on aleph. A claim {@code vmName} already holds ({@link #claim}) is kept:
     * an instance claims its volumes when a node opens, before its QEMU is started again.
     *
     * @param parent a verified local ext4 image, or null
     */
    public Drive attach(String owner, String name, long sizeMib, Path parent, String vmName, int index)
            throws VolumeException {
        Path image = image(owner, name);
        take(image, owner, name, vmName);
        try {
            Path dirty = dirtyMarker(image);
            if (!Files.exists(image) && parent != null) {
                ParentCopy.create(parent, image, sizeMib, name);
            } else if (!Files.exists(image)) {
                Ext4Images.create(image, sizeMib, true);
            } else if (Files.exists(dirty)) {
                Ext4Images.preen(image, "persistent volume '" + name + "'");
            }
            Files.writeString(dirty, vmName + "\n");
            return drive(image, index);
        } catch (VolumeException | IOException | RuntimeException e) {
            claims.remove(image, vmName);
            if (e instanceof VolumeException v) throw v;
            throw new VolumeException("persistent volume '" + name + "' could not be prepared: " + e.getMessage(), e);
        }
    }

    /** The drive of the volume of (owner, name) as the {@code index}-th of a VM, claimed or not. */
    public Drive drive(String owner, String name, int index) throws VolumeException {
        return drive(image(owner, name), index);
    }

    private static Drive drive(Path image, int index) {
        return new Drive(DRIVE_PREFIX + index, image, false);
    }

    /**
     * Claims the volume for {@code vmName} without touching its image, and returns its drive: for
     * an instance whose QEMU outlived the node that started it and still has the image open (a
     * check now would run on a mounted filesystem). The dirty marker stays until that VM's release.
     */
    public Drive claim(String owner, String name, String vmName, int index) throws VolumeException {
        Path image = image(owner, name);
        take(image, owner, name, vmName);
        try {
            if (Files.exists(image)) Files.writeString(dirtyMarker(image), vmName + "\n");
        } catch (IOException e) {
            claims.remove(image, vmName);
            throw new VolumeException("persistent volume '" + name + "' could not be marked in use: " + e.getMessage(), e);
        }
        return drive(image, index);
    }

    private void take(Path image, String owner, String name, String vmName) throws InUseException {
        String holder = claims.putIfAbsent(image, vmName);
        if (holder != null && !holder.equals(vmName)) {
            throw new InUseException("persistent volume '" + name + "' of " + owner + " is attached to the running VM "
                    + holder + "; a volume is attached to one VM at a time (stop that VM, or wait until it goes idle)");
        }
    }

    /**
     * Claims again, for {@code vmName}, the persistent volumes among {@code drives} of a VM that
     * an earlier node process left running (docs/node.md, "Restarts"): it still has them attached,
     * so nobody else may. Nothing is created or checked (the VM has the filesystem mounted); the
     * dirty marker stays until the VM stops cleanly. A claim this name holds already is kept.
     *
     * @throws InUseException if another VM holds one of them (then none is claimed)
     */
    public void reclaim(List<Drive> drives, String vmName) throws InUseException {
        List<Drive> claimed = new java.util.ArrayList<>();
        for (Drive d : drives) {
            if (!d.id().startsWith(DRIVE_PREFIX) || d.readOnly()) continue;
            String holder = claims.putIfAbsent(d.file(), vmName);
            if (holder == null) {
                claimed.add(d);
            } else if (!holder.equals(vmName)) {
                release(claimed, vmName, false);
                throw new InUseException("persistent volume " + d.file().getFileName() + " is attached to the running VM "
                        + holder + ", so the VM " + vmName + " that an earlier node left running with it cannot be adopted");
            }
        }
    }

    /**
     * The VM is gone: its volumes are free again; when it stopped cleanly and each filesystem was
     * unmounted by the guest their dirty markers go, else they stay for the check before the next
     * attach.
     */
    public void release(VmSpec spec, boolean clean) {
        release(spec.drives(), spec.name(), clean);
    }

    public void release(List<Drive> drives, String vmName, boolean clean) {
        for (Drive d : drives) {
            if (!d.id().startsWith(DRIVE_PREFIX) || d.readOnly()) continue;
            if (!claims.remove(d.file(), vmName)) continue;
            if (clean && Ext4State.cleanlyDetached(d.file())) {
                try {
                    Files.deleteIfExists(dirtyMarker(d.file()));
                } catch (IOException ignored) {
                    // The marker only costs an unneeded check at the next attach.
                }
            }
        }
    }

    /**
     * Deletes the volume of (owner, name) for an operator's erase; false if there was none. A
     * volume attached to a running VM is refused rather than pulled from under it.
     */
    public boolean delete(String owner, String name) throws VolumeException {
        Path image = image(owner, name);
        String holder = claims.get(image);
        if (holder != null) {
            throw new InUseException("persistent volume '" + name + "' of " + owner + " is attached to the running VM "
                    + holder + "; stop that VM before erasing the volume");
        }
        try {
            Files.deleteIfExists(dirtyMarker(image));
            return Files.deleteIfExists(image);
        } catch (IOException e) {
            throw new VolumeException("persistent volume '" + name + "' could not be deleted: " + e.getMessage(), e);
        }
    }

    /** The volumes kept here, with the VM each is attached to now. */
    public List<VolumeInfo> list() throws IOException {
        return VolumeListing.list(root, Map.copyOf(claims));
    }

    /** Whether the image is marked as not cleanly detached (for tests and listings). */
    public static boolean isDirty(Path image) {
        return Files.exists(dirtyMarker(image));
    }

    static Path dirtyMarker(Path image) {
        return image.resolveSibling(image.getFileName() + ".dirty");
    }
}
