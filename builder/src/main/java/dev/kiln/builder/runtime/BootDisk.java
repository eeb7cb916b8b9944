package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.ExternalCommand;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Assembles a BIOS-bootable raw disk from an ext4 image without loop devices or mounts: an MBR
 * partition table (sfdisk on the file) with one partition at 1 MiB, the ext4 image copied into
 * it, GRUB's core image (grub-mkimage, i386-pc) in the gap after the MBR and GRUB's boot sector
 * code in the MBR in front of the partition table. Every input is fixed (disk id from the spec,
 * the filesystem already reproducible), so the same inputs give the same bytes.
 */
final class BootDisk {

    static final long SECTOR = 512;
    /** The partition starts at 1 MiB, as every partitioning tool does; core.img lives before it. */
    static final long PARTITION_START = 2048;
    /** What core.img needs from GRUB: disk access through the BIOS, MBR, ext4, a serial console and Linux. */
    static final List<String> GRUB_MODULES = List.of("biosdisk", "part_msdos", "ext2", "normal", "linux", "serial",
            "terminal", "echo", "test");
    /** Where GRUB's i386-pc modules and boot sector are (package grub-pc-bin). */
    static final Path GRUB_DIR = Path.of("/usr/lib/grub/i386-pc");
    /** The MBR's boot code ends where the disk signature and partition table begin. */
    private static final int MBR_CODE_BYTES = 440;

    private BootDisk() {
    }

    /**
     * Writes {@code disk}: the partition table, {@code partition} (an ext4 image) at
     * {@link #PARTITION_START}, and GRUB, whose configuration is read from
     * {@code (hd0,msdos1)/boot/grub/grub.cfg}.
     *
     * @param diskId the MBR disk identifier (eight hex digits)
     */
    static void assemble(Path partition, Path disk, String diskId, Path workDir, BuildLog log)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(GRUB_DIR.resolve("boot.img"))) {
            throw new IOException("GRUB for BIOS is not installed on this host (" + GRUB_DIR + "/boot.img is missing):"
                    + " install grub-pc-bin (scripts/setup.sh does)");
        }
        long partitionBytes = Files.size(partition);
        long sectors = partitionBytes / SECTOR;
        Files.deleteIfExists(disk);
        try (FileChannel out = FileChannel.open(disk, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.allocate(1), (PARTITION_START + sectors) * SECTOR - 1);
        }
        Path script = workDir.resolve("sfdisk.txt");
        Files.writeString(script, "label: dos\nlabel-id: 0x" + diskId + "\nunit: sectors\n\nstart=" + PARTITION_START
                + ", size=" + sectors + ", type=83, bootable\n");
        int status = new ExternalCommand(List.of("sfdisk", "--no-reread", "--no-tell-kernel", "-q", disk.toString()),
                workDir, Map.of()).run(log::line, script, n -> { });
        Files.delete(script);
        if (status != 0) throw new IOException("sfdisk could not write the partition table (exit " + status + ")");

        try (FileChannel in = FileChannel.open(partition, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            long done = 0;
            while (done < partitionBytes) done += in.transferTo(done, partitionBytes - done, out.position(PARTITION_START * SECTOR + done));
        }

        Path core = workDir.resolve("core.img");
        List<String> mkimage = new ArrayList<>(List.of("grub-mkimage", "-O", "i386-pc", "-d", GRUB_DIR.toString(),
                "-o", core.toString(), "-p", "(hd0,msdos1)/boot/grub"));
        mkimage.addAll(GRUB_MODULES);
        // GRUB's bytes come from the host's grub-pc-bin, not the archive: the log says which one.
        log.line("grub: " + ExternalCommand.of(workDir, "grub-mkimage", "--version").capture(java.time.Duration.ofSeconds(30)));
        log.run(new ExternalCommand(mkimage, workDir, Map.of()));
        byte[] coreBytes = Files.readAllBytes(core);
        Files.delete(core);
        if (coreBytes.length > (PARTITION_START - 1) * SECTOR) {
            throw new IOException("GRUB's core image (" + coreBytes.length + " bytes) does not fit before the partition");
        }
        byte[] bootSector = Files.readAllBytes(GRUB_DIR.resolve("boot.img"));
        try (FileChannel out = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            // boot.img's defaults already point at core.img in sector 1, which is where it goes.
            out.write(ByteBuffer.wrap(Arrays.copyOf(bootSector, MBR_CODE_BYTES)), 0);
            out.write(ByteBuffer.wrap(coreBytes), SECTOR);
        }
        log.line("disk: MBR " + diskId + ", partition 1 at sector " + PARTITION_START + " (" + sectors + " sectors),"
                + " GRUB core image " + coreBytes.length + " bytes (" + String.join(" ", GRUB_MODULES) + ")");
    }
}
