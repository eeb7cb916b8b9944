package dev.kiln.node.instance;

import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.volume.ScratchVolumes;
import dev.kiln.node.volume.VolumeException;
import dev.kiln.vm.Drive;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The volumes of one instance as drives of its QEMU, in the message's order (the position is the
 * drive's serial, {@code kiln-volume-<i>}): immutable ones read-only from the store; persistent
 * ones from the node's {@link PersistentVolumes}, claimed for the instance's VM name while a QEMU
 * of it runs (the claim is shared with programs' VMs, so one image never has two VMs); scratch
 * ones made empty in the instance's directory at each QEMU start and deleted when that QEMU ends.
 */
final class InstanceVolumes {
    private static final System.Logger LOG = System.getLogger(InstanceVolumes.class.getName());

    private final PersistentVolumes persistent;
    private final Path dir;
    private final String vmName;

    /** @param persistent the node's persistent volumes, or null (instances with them are refused at allocate) */
    InstanceVolumes(PersistentVolumes persistent, Path dir, String vmName) {
        this.persistent = persistent;
        this.dir = dir;
        this.vmName = vmName;
    }

    /** The persistent volumes of {@code r}, as its record keeps them. */
    static List<InstanceState.Kept> kept(ResolvedInstance r) {
        List<InstanceState.Kept> out = new ArrayList<>();
        for (int i = 0; i < r.volumes().size(); i++) {
            if (r.volumes().get(i) instanceof ResolvedInstance.Persistent p) out.add(new InstanceState.Kept(p.owner(), p.name(), i));
        }
        return out;
    }

    /**
     * What a new QEMU of {@code r} gets: each persistent volume claimed, made on first use (empty or
     * from its parent) and checked with e2fsck after an unclean end; each scratch volume new and
     * empty. On failure nothing stays claimed or made.
     */
    List<Drive> attach(ResolvedInstance r) throws VolumeException {
        return drives(r, true);
    }

    /**
     * The drives of a QEMU of {@code r} that already runs (re-adopted by a new node): its persistent
     * volumes claimed again without touching their images, which that QEMU has open.
     */
    List<Drive> claim(ResolvedInstance r) throws VolumeException {
        return drives(r, false);
    }

    private List<Drive> drives(ResolvedInstance r, boolean fresh) throws VolumeException {
        List<Drive> out = new ArrayList<>();
        try {
            for (int i = 0; i < r.volumes().size(); i++) {
                out.add(switch (r.volumes().get(i)) {
                    case ResolvedInstance.Immutable v -> new Drive("volume" + i, v.item().file(), true);
                    case ResolvedInstance.Persistent v -> fresh
                            ? store().attach(v.owner(), v.name(), v.sizeMib(), v.parent() == null ? null : v.parent().file(),
                                    vmName, i)
                            : store().claim(v.owner(), v.name(), vmName, i);
                    case ResolvedInstance.Scratch v -> fresh ? ScratchVolumes.create(dir, i, v.sizeMib())
                            : ScratchVolumes.existing(dir, i);
                });
            }
            return out;
        } catch (VolumeException | RuntimeException e) {
            if (fresh) release(out);
            else releaseClaims(out);
            throw e;
        }
    }

    /**
     * Claims the recorded persistent volumes of an allocated instance when a node opens, before
     * programs or other instances can take them: its QEMU may still run with them attached.
     */
    void claim(List<InstanceState.Kept> kept) {
        for (InstanceState.Kept k : kept) {
            try {
                store().claim(k.owner(), k.name(), vmName, k.index());
            } catch (VolumeException e) {
                LOG.log(System.Logger.Level.WARNING, vmName + ": " + e.getMessage());
            }
        }
    }

    /**
     * The QEMU that had {@code drives} is gone: scratch images are deleted, persistent volumes are
     * free again; a volume whose superblock shows the guest did not unmount it (QEMU stopped under a
     * running guest) keeps its dirty marker and is checked before its next attach.
     */
    void release(List<Drive> drives) {
        ScratchVolumes.discard(drives);
        releaseClaims(drives);
    }

    /** {@link #release} of the recorded persistent volumes: for an end where the drives are not known. */
    void releaseKept(List<InstanceState.Kept> kept) {
        List<Drive> drives = new ArrayList<>();
        for (InstanceState.Kept k : kept) {
            try {
                drives.add(store().drive(k.owner(), k.name(), k.index()));
            } catch (VolumeException e) {
                // an owner that names no image was never claimed
            }
        }
        releaseClaims(drives);
    }

    private void releaseClaims(List<Drive> drives) {
        if (persistent != null) persistent.release(drives, vmName, true);
    }

    /** Deletes the persistent volumes (erase); what could not be deleted is logged and returned. */
    List<String> delete(List<InstanceState.Kept> kept) {
        List<String> problems = new ArrayList<>();
        for (InstanceState.Kept k : kept) {
            try {
                if (store().delete(k.owner(), k.name())) {
                    LOG.log(System.Logger.Level.INFO, vmName + ": erased persistent volume '" + k.name() + "' of " + k.owner());
                }
            } catch (VolumeException e) {
                LOG.log(System.Logger.Level.WARNING, vmName + ": erase: " + e.getMessage());
                problems.add(e.getMessage());
            }
        }
        return problems;
    }

    private PersistentVolumes store() throws VolumeException {
        if (persistent == null) {
            throw new VolumeException("this node was started without a place to keep persistent volumes", null);
        }
        return persistent;
    }
}
