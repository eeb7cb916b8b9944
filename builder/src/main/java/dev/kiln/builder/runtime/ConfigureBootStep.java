package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * For a qemu-disk-image: checks that the distribution's kernel and its initramfs are in the tree
 * and writes what boots them from the disk: GRUB's configuration and the root's fstab line, both
 * naming the root filesystem by the UUID {@link PackImageStep} gives it. The kernel is named
 * through the {@code /vmlinuz} and {@code /initrd.img} links the kernel package keeps current, so
 * a kernel the instance upgrades itself to is the one that boots next. The initramfs is made again
 * with only the drivers of the disk Kiln gives it (virtio-blk on PCI) instead of Debian's
 * "most": a third of the size, which under TCG is seconds of decompression and module loading.
 */
final class ConfigureBootStep implements BuildStep {

    static final String GRUB_CFG = "/boot/grub/grub.cfg";
    static final String INITRAMFS_CONF = "/etc/initramfs-tools/conf.d/90-kiln.conf";
    /** What the initramfs needs to find the root: the disk's bus and driver (ext4 is built into the cloud kernel). */
    static final List<String> INITRAMFS_MODULES = List.of("virtio_pci", "virtio_blk");

    private final RuntimeSpec spec;
    private final RootFs root;
    private final Chroot chroot;

    ConfigureBootStep(RuntimeSpec spec, RootFs root, Chroot chroot) {
        this.spec = spec;
        this.root = root;
        this.chroot = chroot;
    }

    @Override
    public String name() {
        return "ConfigureBoot";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(20);
    }

    /**
     * The kernel command line. net.ifnames=0 keeps the NIC's name eth0 on a PCI machine, the name
     * the seed's network configuration gives it (SeedDrive); console=ttyS0 is the console the
     * node records.
     */
    static String commandLine(RuntimeSpec spec) {
        return "root=UUID=" + PackImageStep.rootUuid(spec) + " ro console=ttyS0,115200 net.ifnames=0";
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        String kernel = bootFile("/vmlinuz", "vmlinuz-");
        String initrd = bootFile("/initrd.img", "initrd.img-");
        String cfg = "# Written by Kiln's builder for " + spec.name() + " (docs/runtimes.md#qemu-disk-images).\n"
                + "serial --unit=0 --speed=115200\n"
                + "terminal_input serial\n"
                + "terminal_output serial\n"
                + "echo 'Loading " + kernel + "'\n"
                + "linux " + kernel + " " + commandLine(spec) + "\n"
                + "initrd " + initrd + "\n"
                + "boot\n";
        write(GRUB_CFG, cfg);
        write("/etc/fstab", "# <file system> <mount point> <type> <options> <dump> <pass>\n"
                + "UUID=" + PackImageStep.rootUuid(spec) + " / ext4 errors=remount-ro 0 1\n");
        if (Files.isDirectory(root.resolve("/etc/initramfs-tools"))) {
            progress.report(0.2, "initramfs with " + String.join(", ", INITRAMFS_MODULES));
            write(INITRAMFS_CONF, "# Written by Kiln's builder: an instance's disk is virtio-blk on PCI, so only its\n"
                    + "# drivers go into the initramfs (docs/runtimes.md#qemu-disk-images).\nMODULES=list\n");
            Path modules = root.resolve("/etc/initramfs-tools/modules");
            String listed = Files.exists(modules) ? Files.readString(modules) : "";
            write("/etc/initramfs-tools/modules", listed + String.join("\n", INITRAMFS_MODULES) + "\n");
            chroot.run("update-initramfs", "-u", "-k", "all");
        }
    }

    /**
     * {@code link} if the kernel package made it, else the one {@code /boot/<prefix>*} there is.
     *
     * @throws IOException naming the package to add when there is no kernel
     */
    private String bootFile(String link, String prefix) throws IOException {
        if (Files.exists(root.resolve(link))) return link;
        List<String> found;
        try (Stream<Path> files = Files.list(root.resolve("/boot"))) {
            found = files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (java.nio.file.NoSuchFileException e) {
            found = List.of();
        }
        if (found.size() != 1) {
            throw new IOException("a qemu-disk-image needs exactly one kernel with its initramfs in /boot, found "
                    + (found.isEmpty() ? "no " + prefix + "*" : String.join(", ", found))
                    + ": add linux-image-cloud-amd64 (and initramfs-tools) to packages.apt");
        }
        return "/boot/" + found.getFirst();
    }

    private void write(String guestPath, String text) throws IOException {
        Path target = root.resolve(guestPath);
        Images.createDirectories(root, target.getParent());
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) Files.delete(target);
        Files.writeString(target, text);
        Images.setMode(target, 0644);
    }
}
