package dev.kiln.node.instance;

import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.Resources;
import dev.kiln.vm.Drive;
import dev.kiln.vm.instance.InstanceBoot;
import dev.kiln.vm.instance.InstanceSpec;
import dev.kiln.vm.instance.SeedDrive;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How an instance's message becomes what its VM boots: file names under its directory, the seed's
 * contents and the {@link InstanceSpec}. The one place that chooses the boot: a rootfs instance
 * boots Kiln's kernel with the disk as root; a disk-image instance ({@code hypervisor: qemu})
 * boots its own bootloader through the PC machine's firmware.
 */
final class InstancePlan {
    static final String DISK = "disk.qcow2";
    static final String SEED = "seed.iso";

    private InstancePlan() {}

    /** QEMU's -name: it identifies the instance's process when a node re-adopts it. */
    static String vmName(ResolvedInstance r) {
        return vmName(r.message());
    }

    static String vmName(dev.kiln.core.hash.ItemHash message) {
        return "kiln-instance-" + message.value();
    }

    /** The guest's host name: a DNS label derived from the message's hash. */
    static String hostname(ResolvedInstance r) {
        return "instance-" + r.message().value().substring(0, 12);
    }

    static SeedDrive seed(ResolvedInstance r) {
        InstanceContent c = r.content();
        List<SeedDrive.Mount> mounts = new ArrayList<>();
        for (int i = 0; i < r.volumes().size(); i++) {
            ResolvedInstance.Volume v = r.volumes().get(i);
            if (v.mount() != null && !v.mount().isBlank()) {
                mounts.add(new SeedDrive.Mount("/dev/disk/by-id/virtio-" + InstanceSpec.volumeSerial(i), v.mount(),
                        v instanceof ResolvedInstance.Immutable));
            }
        }
        // The message's hash is cloud-init's instance id: stable across reboots, so the disk is
        // configured once, as one machine.
        return new SeedDrive(r.message().value(), hostname(r), c.authorizedKeysOrEmpty(), c.variablesOrEmpty(), mounts);
    }

    /** @param drives the volumes' drives in the message's order ({@link InstanceVolumes}) */
    static InstanceSpec spec(ResolvedInstance r, Path kernel, Path dir, int sshPort, int maxVcpus, List<Drive> drives) {
        Resources res = r.content().resourcesOrDefault();
        int vcpus = Math.min(res.vcpus(), maxVcpus);
        InstanceBoot boot = r.diskImage() ? new InstanceBoot.FirmwareBoot() : new InstanceBoot.KernelBoot(kernel);
        return new InstanceSpec(vmName(r), boot, dir.resolve(DISK), dir.resolve(SEED), Math.toIntExact(res.memoryMib()),
                vcpus, sshPort, dir, r.content().environmentOrDefault().hasInternet(), drives);
    }
}
