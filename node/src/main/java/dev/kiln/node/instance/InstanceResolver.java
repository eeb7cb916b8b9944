package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.EphemeralVolume;
import dev.kiln.core.message.ImmutableVolume;
import dev.kiln.core.message.Hypervisor;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Volume;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.program.ProgramContract.Refusal;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.ResolvedItem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns an instance's item hash into a {@link ResolvedInstance}: its INSTANCE message from the
 * node's records (or a remote), validated and checked against its hash; every field this node
 * does not honour refused by name ({@link InstanceContract}); the parent image and the volumes
 * resolved through the store, each verified against its hash, honouring {@code use_latest} (a
 * persistent volume's parent too; the volume itself is made when the instance first boots).
 */
public final class InstanceResolver {
    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

    private final ProgramResolver messages;
    private final HostSev sev;

    public InstanceResolver(ProgramResolver messages, HostSev sev) {
        this.messages = messages;
        this.sev = sev;
    }

    public ResolvedInstance resolve(ItemHash hash) throws NodeException {
        AlephMessage m = messages.message(hash, MessageType.INSTANCE);
        InstanceContent c = m.contentAs(InstanceContent.class);
        List<Refusal> refused = InstanceContract.refusals(c, sev);
        if (!refused.isEmpty()) {
            throw new NodeException(ErrorCode.UNSUPPORTED, "instance " + hash + " uses what this node does not do: "
                    + refused.getFirst() + (refused.size() > 1 ? " (and " + (refused.size() - 1) + " more, see details)" : ""),
                    refused.stream().map(r -> new NodeException.Detail(r.field(), r.reason())).toList(), null);
        }
        ResolvedItem parent = messages.item("content.rootfs.parent.ref", c.rootfs().parent().refHash(),
                c.rootfs().parent().useLatestOrDefault());
        boolean diskImage = c.environment() != null && c.environment().knownHypervisor().orElse(null) == Hypervisor.QEMU;
        if (diskImage) checkDiskImage(parent);
        else checkRootfsImage(parent);
        List<ResolvedInstance.Volume> volumes = new ArrayList<>();
        List<Volume> declared = c.volumesOrEmpty();
        for (int i = 0; i < declared.size(); i++) {
            String field = "content.volumes[" + i + "]";
            volumes.add(switch (declared.get(i)) {
                case ImmutableVolume v -> new ResolvedInstance.Immutable(messages.item(field + ".ref", v.refHash(),
                        v.useLatestOrDefault()), v.mount());
                // The contract refused persistence: store; a parent is resolved and verified like any reference.
                case PersistentVolume v -> new ResolvedInstance.Persistent(c.address(), v.name(), v.sizeMib(),
                        v.parent() == null ? null : messages.item(field + ".parent.ref", v.parent().refHash(),
                                v.parent().useLatestOrDefault()), v.mount());
                case EphemeralVolume v -> new ResolvedInstance.Scratch(v.sizeMib(), v.mount());
            });
        }
        return new ResolvedInstance(hash, c, parent, volumes);
    }

    /**
     * A disk-image instance's parent must be a whole disk its firmware can boot: a qcow2 image, or a
     * raw disk with a partition table (the MBR's boot signature). An ext4 root filesystem or a
     * squashfs runtime has no bootloader, and SeaBIOS would find nothing to boot.
     */
    private static void checkDiskImage(ResolvedItem parent) throws NodeException {
        byte[] head = head(parent, 1082);
        if (head.length >= 4 && Arrays.equals(Arrays.copyOf(head, 4), QCOW2_MAGIC)) return;
        if (head.length >= 512 && (head[510] & 0xff) == 0x55 && (head[511] & 0xff) == 0xaa) return;
        boolean ext4 = head.length == 1082 && (head[1080] & 0xff) == 0x53 && (head[1081] & 0xff) == 0xef;
        String what = ext4 ? "an ext4 root filesystem (an instance-rootfs image), which boots without hypervisor: qemu"
                : "neither a qcow2 image nor a partitioned raw disk";
        throw new NodeException(ErrorCode.UNSUPPORTED, "content.rootfs.parent.ref " + parent.ref() + " is " + what
                + "; a disk-image instance (hypervisor: qemu) boots from a qemu-disk-image runtime"
                + " (kiln runtime build debian-12-cloud, or kiln runtime import FILE)",
                List.of(new NodeException.Detail("content.rootfs.parent.ref", what)), null);
    }

    static boolean isQcow2(java.nio.file.Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(4), QCOW2_MAGIC);
        } catch (IOException e) {
            return false;
        }
    }

    private static byte[] head(ResolvedItem parent, int bytes) throws NodeException {
        try (InputStream in = Files.newInputStream(parent.file())) {
            return in.readNBytes(bytes);
        } catch (IOException e) {
            throw new NodeException(ErrorCode.INTERNAL, "content.rootfs.parent.ref " + parent.ref() + " cannot be read", e);
        }
    }

    /**
     * A rootfs instance's parent must be an ext4 filesystem image (an instance-rootfs runtime):
     * a function runtime's squashfs or a whole-disk image would boot into a kernel panic.
     */
    private static void checkRootfsImage(ResolvedItem parent) throws NodeException {
        byte[] head = new byte[1082];
        int n;
        try (InputStream in = Files.newInputStream(parent.file())) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            throw new NodeException(ErrorCode.INTERNAL, "content.rootfs.parent.ref " + parent.ref() + " cannot be read", e);
        }
        boolean ext4 = n == head.length && (head[1080] & 0xff) == 0x53 && (head[1081] & 0xff) == 0xef;
        if (ext4) return;
        String what = n >= 4 && Arrays.equals(Arrays.copyOf(head, 4), QCOW2_MAGIC)
                ? "a QEMU disk image (qcow2), which needs environment.hypervisor: qemu"
                : n >= 4 && head[0] == 'h' && head[1] == 's' && head[2] == 'q' && head[3] == 's'
                ? "a squashfs image (a function runtime, not an instance root filesystem)"
                : "not an ext4 filesystem image";
        throw new NodeException(ErrorCode.UNSUPPORTED, "content.rootfs.parent.ref " + parent.ref() + " is " + what
                + "; a rootfs instance boots from an instance-rootfs image (kiln runtime build debian-12-instance)",
                List.of(new NodeException.Detail("content.rootfs.parent.ref", what)), null);
    }
}
