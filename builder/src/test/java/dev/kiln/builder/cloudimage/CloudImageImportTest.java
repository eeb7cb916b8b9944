package dev.kiln.builder.cloudimage;

import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.LocalRuntimes;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.catalogue.RuntimeKind;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.BlobStore;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code kiln runtime import}: the Debian 12 cloud disk built here (a real partitioned, bootable
 * image; the distributions' own cannot be downloaded on this machine), as raw and converted to
 * qcow2, is published by hash as a qemu-disk-image runtime; garbage, other formats, overlays with
 * a backing file and oversized disks are refused with the reason, and nothing is published.
 */
class CloudImageImportTest {

    @TempDir
    Path dir;
    private StoreRecords records;
    private LocalPublisher publisher;
    private LocalRuntimes local;
    private BlobStore blobs;

    @BeforeEach
    void open() throws Exception {
        KilnHome home = KilnHome.of(dir.resolve("home")).create();
        records = home.openStoreRecords();
        blobs = BlobStore.open(home);
        publisher = LocalPublisher.open(home, blobs, records);
        local = new LocalRuntimes(dir.resolve("home"));
    }

    @AfterEach
    void close() {
        records.close();
    }

    @Test
    void aBuiltRawDiskAndItsQcow2CopyArePublishedByHashAsDiskImages() throws Exception {
        BuiltRuntime built = TestBuilds.runtime("debian-12-cloud");

        CloudImageImport.Imported raw = CloudImageImport.importImage(local, publisher, built.image(), "debian-12-cloud-raw");
        assertThat(raw.image().format()).isEqualTo("raw");
        assertThat(raw.publication().diskFormat()).isEqualTo("raw");
        assertThat(raw.publication().runtimeKind()).isEqualTo(RuntimeKind.QEMU_DISK_IMAGE);
        assertThat(raw.publication().imageSha256()).isEqualTo(built.imageHash().value());
        StoreRecord record = records.resolve(ItemHash.parse(raw.publication().messageHash()), true).orElseThrow();
        assertThat(record.fileHash()).isEqualTo(built.imageHash());
        assertThat(blobs.has(built.imageHash())).isTrue();

        Path qcow2 = dir.resolve("debian-12-cloud.qcow2");
        run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", built.image().toString(), qcow2.toString());
        CloudImageImport.Imported q = CloudImageImport.importImage(local, publisher, qcow2, null);
        assertThat(q.image().format()).isEqualTo("qcow2");
        assertThat(q.image().virtualBytes()).isEqualTo(Files.size(built.image()));
        assertThat(q.publication().name()).isEqualTo("local/debian-12-cloud");
        assertThat(q.publication().imageSha256()).isEqualTo(ItemHash.sha256Of(qcow2).value());

        assertThat(local.entries()).filteredOn(e -> e.name().startsWith("debian-12-cloud-raw") || e.name().equals("local/debian-12-cloud"))
                .hasSize(2).extracting(RuntimeEntry::kind).containsOnly(RuntimeKind.QEMU_DISK_IMAGE);
    }

    @Test
    void garbageIsRefusedAsNotADiskImage() throws Exception {
        Path garbage = dir.resolve("ubuntu.img");
        byte[] bytes = new byte[3 << 20];
        new Random(13).nextBytes(bytes);
        bytes[510] = 0;  // a random boot signature would be a 1-in-65536 flake
        Files.write(garbage, bytes);
        assertRefused(garbage, "is not a disk image");

        Path html = dir.resolve("download.qcow2");
        Files.writeString(html, "<html><body>404 Not Found</body></html>\n");
        assertRefused(html, "is not a disk image");
        assertRefused(dir.resolve("missing.qcow2"), "no file at");
    }

    @Test
    void otherFormatsBackingFilesAndOversizedDisksAreRefusedWithWhatToDo() throws Exception {
        Path vmdk = dir.resolve("disk.vmdk");
        run("qemu-img", "create", "-q", "-f", "vmdk", vmdk.toString(), "64M");
        assertRefused(vmdk, "is a vmdk image", "qemu-img convert -O qcow2");

        Path base = dir.resolve("base.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "64M");
        Path overlay = dir.resolve("overlay.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", overlay.toString());
        assertRefused(overlay, "has a backing file");

        Path huge = dir.resolve("huge.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", huge.toString(), "2T");
        assertRefused(huge, "at most 64 GiB");
    }

    @Test
    void aDamagedQcow2IsRefused() throws Exception {
        Path image = dir.resolve("damaged.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "64M");
        run("qemu-io", "-c", "write -P 0x5a 0 1M", image.toString());
        // Point the L1 table's first entry into the header cluster: qemu-img check reports corruption.
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(48);
            ch.read(header, 0);
            long l1Offset = header.getLong(40);
            ch.write(java.nio.ByteBuffer.allocate(8).putLong(0, 0x8000000000000000L | 0x200L), l1Offset);
        }
        assertRefused(image, "is damaged");
    }

    private void assertRefused(Path file, String... reasons) throws Exception {
        assertThatThrownBy(() -> CloudImageImport.importImage(local, publisher, file, null))
                .isInstanceOf(CloudImageException.class)
                .satisfies(e -> {
                    for (String r : reasons) assertThat(e.getMessage()).contains(r);
                });
        assertThat(local.publications()).isEmpty();
    }

    private void run(String... argv) throws Exception {
        ExternalCommand.of(dir, argv).capture(Duration.ofMinutes(3));
    }
}
