package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.VmSpec;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;
import dev.kiln.vm.snapshot.SnapshotManifest;
import dev.kiln.vm.snapshot.SnapshotVerifier;

import java.io.IOException;
import java.util.List;

/**
 * Whether a snapshot can become the VM a spec describes, checked before QEMU starts: the same
 * machine, memory, vCPUs, accelerator, kernel bytes, drives and command-line shape. (QEMU's
 * version is checked once QEMU is up; see {@link SnapshotIncoming}.) The caller's key already
 * covers what the guest was configured with; this covers what QEMU needs for the state to load.
 */
final class SnapshotCompatibility {
    private SnapshotCompatibility() {
    }

    static void check(Snapshot snapshot, VmSpec spec, Accelerator accelerator, List<String> shape, SnapshotVerifier verifier)
            throws SnapshotException {
        SnapshotManifest m = snapshot.manifest();
        String of = "snapshot " + snapshot.directory() + " ";
        if (m.format() != SnapshotManifest.FORMAT) {
            refuse(of + "has format " + m.format() + "; this Kiln reads format " + SnapshotManifest.FORMAT);
        }
        if (!"microvm".equals(m.machine())) refuse(of + "is of machine " + m.machine() + ", not microvm");
        if (!accelerator.id().equals(m.accelerator())) {
            refuse(of + "was taken under " + m.accelerator() + ", this VM runs under " + accelerator.id());
        }
        if (m.memoryMiB() != spec.memoryMiB() || m.vcpus() != spec.vcpus()) {
            refuse(of + "has " + m.memoryMiB() + " MiB and " + m.vcpus() + " vCPUs, the VM " + spec.memoryMiB() + " MiB and "
                    + spec.vcpus() + " vCPUs");
        }
        try {
            if (m.kernel() == null || m.kernel().size() != java.nio.file.Files.size(spec.kernel())
                    || !m.kernel().sha256().equals(verifier.sha256(spec.kernel()))) {
                refuse(of + "was taken with another guest kernel than " + spec.kernel());
            }
            if (!m.drives().equals(QemuSnapshotter.drives(spec))) {
                refuse(of + "has drives " + m.drives() + ", the VM " + QemuSnapshotter.drives(spec));
            }
        } catch (IOException e) {
            refuse("cannot read the VM's kernel or drives to compare with " + of + ": " + e.getMessage());
        }
        if (!m.commandShape().equals(shape)) {
            refuse(of + "was taken with another QEMU command line (another Kiln version or host): saved "
                    + m.commandShape() + ", now " + shape);
        }
    }

    private static void refuse(String message) throws SnapshotException {
        throw new SnapshotException(SnapshotException.Reason.INCOMPATIBLE, message);
    }
}
