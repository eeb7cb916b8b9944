package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.testing.TestBuilds;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The qemu-disk-image kind as built: the official debian-12-cloud disk (cached in the test home,
 * shared with node's DiskImageInstanceTest) has an MBR with one bootable Linux partition at 1 MiB and GRUB's
 * boot code in front of its partition table; the partition is the ext4 root whose UUID GRUB's
 * configuration and fstab name, with Debian's cloud kernel and its initramfs and no per-instance
 * identity. Booting it is DiskImageInstanceTest's job (node: through the operator API).
 */
class DiskImageBuildTest {

    @TempDir
    static Path work;
    private static BuiltRuntime disk;
    private static Path partition;

    @BeforeAll
    static void build() throws Exception {
        disk = TestBuilds.runtime("debian-12-cloud");
        partition = work.resolve("root.ext4");
        try (FileChannel in = FileChannel.open(disk.image(), StandardOpenOption.READ);
             FileChannel out = FileChannel.open(partition, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long start = BootDisk.PARTITION_START * BootDisk.SECTOR;
            long size = in.size() - start;
            for (long done = 0; done < size; ) done += in.transferTo(start + done, size - done, out);
        }
    }

    @Test
    void theDiskHasOneBootableLinuxPartitionAndGrubInItsMbr() throws Exception {
        assertThat(disk.filesystem()).isEqualTo(RuntimeSpec.Output.DISK);
        JsonNode table = new ObjectMapper().readTree(run("sfdisk", "-J", disk.image().toString())).path("partitiontable");
        assertThat(table.path("label").asText()).isEqualTo("dos");
        assertThat(table.path("id").asText()).isEqualTo("0x" + PackImageStep.diskId(RuntimeSpecs.official("debian-12-cloud")));
        assertThat(table.path("partitions")).hasSize(1);
        JsonNode p = table.path("partitions").get(0);
        assertThat(p.path("start").asLong()).isEqualTo(BootDisk.PARTITION_START);
        assertThat(p.path("type").asText()).isEqualTo("83");
        assertThat(p.path("bootable").asBoolean()).isTrue();

        byte[] mbr = new byte[512];
        try (var in = Files.newInputStream(disk.image())) {
            assertThat(in.readNBytes(mbr, 0, 512)).isEqualTo(512);
        }
        byte[] bootImg = Files.readAllBytes(BootDisk.GRUB_DIR.resolve("boot.img"));
        assertThat(Arrays.copyOf(mbr, 440)).as("GRUB's boot code").isEqualTo(Arrays.copyOf(bootImg, 440));
        assertThat(mbr[510] & 0xff).isEqualTo(0x55);
        assertThat(mbr[511] & 0xff).isEqualTo(0xaa);
    }

    @Test
    void grubAndFstabNameTheRootFilesystemByItsUuidAndTheCloudKernelIsThere() throws Exception {
        String uuid = run("dumpe2fs", "-h", partition.toString()).lines()
                .filter(l -> l.startsWith("Filesystem UUID:")).findFirst().orElseThrow().split(":")[1].strip();
        assertThat(uuid).isEqualTo(PackImageStep.rootUuid(RuntimeSpecs.official("debian-12-cloud")).toString());
        String grub = debugfs("cat " + ConfigureBootStep.GRUB_CFG);
        assertThat(grub).contains("linux /vmlinuz root=UUID=" + uuid + " ro console=ttyS0").contains("initrd /initrd.img");
        assertThat(debugfs("cat /etc/fstab")).contains("UUID=" + uuid + " / ext4");
        assertThat(debugfs("stat /vmlinuz")).contains("Type: symlink").contains("-cloud-amd64");
        assertThat(debugfs("ls -l /boot")).contains("vmlinuz-").contains("initrd.img-").contains("-cloud-amd64");
        assertThat(debugfs("ls -l /etc/ssh")).contains("sshd_config").doesNotContain("ssh_host_");
        assertThat(debugfs("cat /etc/kiln/runtime")).contains("kind=qemu-disk-image");
        assertThat(debugfs("cat " + InstallSystemdStep.CLOUD_CONFIG)).contains("datasource_list: [NoCloud, None]");
        assertThat(debugfs("stat /usr/bin/growpart")).contains("Type: regular");
        // The initramfs holds only the virtio drivers (MODULES=list), not Debian's "most".
        assertThat(debugfs("cat " + ConfigureBootStep.INITRAMFS_CONF)).contains("MODULES=list");
        assertThat(debugfs("cat /etc/initramfs-tools/modules")).contains("virtio_pci\nvirtio_blk");
        run("e2fsck", "-f", "-n", partition.toString()); // exits non-zero on any inconsistency
    }

    private static String debugfs(String request) throws IOException, InterruptedException {
        return run("debugfs", "-R", request, partition.toString());
    }

    private static String run(String... argv) throws IOException, InterruptedException {
        return ExternalCommand.of(work, argv).capture(Duration.ofMinutes(2));
    }
}
