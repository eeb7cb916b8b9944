package dev.kiln.vm.qemu;

import dev.kiln.vm.Drive;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmBootException.Reason;
import dev.kiln.vm.VmSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The files a {@link VmSpec} names (kernel, runtime image, drives), checked before QEMU starts so
 * that a missing or unreadable one is refused with its name and what to do, not with QEMU's words.
 */
final class SpecFiles {
    private SpecFiles() {
    }

    /** @throws VmBootException INVALID_SPEC naming the first file that is missing or not accessible */
    static void check(VmSpec spec) throws VmBootException {
        String vm = "cannot boot VM " + spec.name() + ": ";
        if (!Files.isRegularFile(spec.kernel())) {
            throw new VmBootException(Reason.INVALID_SPEC, vm + "the guest kernel " + spec.kernel() + " does not exist; build it with `kiln kernel build`");
        }
        if (!Files.isReadable(spec.kernel())) throw new VmBootException(Reason.INVALID_SPEC, vm + "the guest kernel " + spec.kernel() + " is not readable");
        if (!Files.isRegularFile(spec.rootfs())) {
            throw new VmBootException(Reason.INVALID_SPEC, vm + "the runtime image " + spec.rootfs() + " does not exist; build the runtime"
                    + " (`kiln runtime build`) or fetch it again");
        }
        if (!Files.isReadable(spec.rootfs())) throw new VmBootException(Reason.INVALID_SPEC, vm + "the runtime image " + spec.rootfs() + " is not readable");
        for (Drive d : spec.drives()) {
            if (!Files.isRegularFile(d.file()) && !isBlockDevice(d.file())) {
                throw new VmBootException(Reason.INVALID_SPEC, vm + "drive '" + d.id() + "' (" + d.file() + ") does not exist");
            }
            if (!Files.isReadable(d.file()) || !d.readOnly() && !Files.isWritable(d.file())) {
                throw new VmBootException(Reason.INVALID_SPEC, vm + "drive '" + d.id() + "' (" + d.file() + ") is not "
                        + (d.readOnly() ? "readable" : "readable and writable"));
            }
        }
    }

    private static boolean isBlockDevice(Path p) {
        try {
            return Files.exists(p) && !Files.isDirectory(p) && Files.readAttributes(p, BasicFileAttributes.class).isOther();
        } catch (IOException e) {
            return false;
        }
    }
}
