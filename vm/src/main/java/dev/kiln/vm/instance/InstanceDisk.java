package dev.kiln.vm.instance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An instance's own disk: a qcow2 overlay whose backing file is the parent image (raw ext4 or
 * qcow2), so the parent is never written and an instance costs only the blocks it changes. The
 * overlay's virtual size is the message's {@code size_mib}; cloud-init's resizefs grows the
 * root filesystem into it at first boot. It outlives the VM: reboots and restarts reuse it.
 *
 * @param file   the overlay
 * @param parent the read-only image it is a child of
 */
public record InstanceDisk(Path file, Path parent) {

    /**
     * The disk at {@code file}, created as a child of {@code parent} if it does not exist yet (an
     * existing disk is kept as it is: that is what makes it persistent).
     *
     * @param parentFormat {@code raw} or {@code qcow2}
     * @param sizeMib      the disk's size; at least the parent's
     */
    public static InstanceDisk open(Path file, Path parent, String parentFormat, long sizeMib)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(parent)) throw new IOException("the parent image " + parent + " does not exist");
        if (!parentFormat.equals("raw") && !parentFormat.equals("qcow2")) {
            throw new IllegalArgumentException("parent format must be raw or qcow2, got " + parentFormat);
        }
        if (!Files.exists(file)) {
            long parentMib = (virtualBytes(parent, parentFormat) + (1 << 20) - 1) >> 20;
            if (sizeMib < parentMib) {
                throw new IOException("size_mib " + sizeMib + " is smaller than the parent image (" + parentMib
                        + " MiB): a disk can only grow");
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path partial = file.resolveSibling(file.getFileName() + ".part");
            Files.deleteIfExists(partial);
            Tools.run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", parent.toAbsolutePath().toString(),
                    "-F", parentFormat, partial.toString(), sizeMib + "M"), "qemu-img (package qemu-utils)");
            Files.move(partial, file);
        }
        return new InstanceDisk(file, parent);
    }

    /** The disk size the guest sees: a raw file's length, or what a qcow2's header says (an imported cloud image). */
    private static long virtualBytes(Path parent, String format) throws IOException, InterruptedException {
        if (format.equals("raw")) return Files.size(parent);
        String info = Tools.run(List.of("qemu-img", "info", "--output=json", "-U", parent.toAbsolutePath().toString()),
                "qemu-img (package qemu-utils)");
        Matcher m = VIRTUAL_SIZE.matcher(info);
        if (!m.find()) throw new IOException("qemu-img reports no virtual size for " + parent);
        return Long.parseLong(m.group(1));
    }

    private static final Pattern VIRTUAL_SIZE = Pattern.compile("\"virtual-size\":\\s*(\\d+)");

    /** Deletes the disk (erase): the parent stays. */
    public void delete() throws IOException {
        Files.deleteIfExists(file);
    }
}
