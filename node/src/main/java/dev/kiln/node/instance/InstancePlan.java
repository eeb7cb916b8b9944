package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.Resources;
import dev.kiln.node.guestapi.GuestApiAccess;
import dev.kiln.vm.Drive;
import dev.kiln.vm.instance.InstanceBoot;
import dev.kiln.vm.instance.InstanceSpec;
import dev.kiln.vm.instance.SeedDrive;
import java.nio.charset.StandardCharsets;
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

    static String vmName(ItemHash message) {
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

    /** What of the guest API the instance asked for ({@code environment.aleph_api}, {@code shared_cache}). */
    static GuestApiAccess guestApi(ResolvedInstance r) {
        return GuestApiAccess.of(r.content().environment());
    }

    /**
     * The Unix socket the node serves an instance's guest API on: under the temporary directory,
     * named after the instance's directory, because a socket's path is limited to 107 bytes and an
     * instance's directory (home, 64-digit hash) can be longer. The same path for every node on the
     * same home, so a re-adopted QEMU's forward finds the new node.
     */
    static Path guestApiSocket(Path dir) {
        String id = ItemHash.sha256Of(dir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8)).value();
        return Path.of(System.getProperty("java.io.tmpdir"), "kiln-api-" + id.substring(0, 16) + ".sock");
    }

    /** @param drives the volumes' drives in the message's order ({@link InstanceVolumes}) */
    static InstanceSpec spec(ResolvedInstance r, Path kernel, Path dir, int sshPort, int maxVcpus, List<Drive> drives) {
        Resources res = r.content().resourcesOrDefault();
        int vcpus = Math.min(res.vcpus(), maxVcpus);
        InstanceBoot boot = r.diskImage() ? new InstanceBoot.FirmwareBoot() : new InstanceBoot.KernelBoot(kernel);
        return new InstanceSpec(vmName(r), boot, dir.resolve(DISK), dir.resolve(SEED), Math.toIntExact(res.memoryMib()),
                vcpus, sshPort, dir, r.content().environmentOrDefault().hasInternet(), drives,
                guestApi(r).any() ? guestApiSocket(dir) : null);
    }
}
