package dev.kiln.node.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.volume.Ext4Images;
import dev.kiln.store.BlobStore;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pack itself, on a real ext4 image with real e2fsprogs, store and SQLite (the guest side —
 * the program writing there, the node packing at stop — is ProgramFixtureTest's): the zip holds the
 * image's files and nothing of the filesystem's own, the same data gives the same hash, an empty
 * directory gives no export.
 */
class DataExportsTest {
    static final ItemHash PROGRAM = ItemHash.parse("0f202000a3c07b1ba5aa02d4f2a93910977742be3e58345b78fe83bb925ba2b2");

    @TempDir
    Path dir;

    @Test
    void theFilesOfTheImageAreZippedIntoTheStoreRecordedAndTheSameDataHashesTheSame() throws Exception {
        KilnHome home = KilnHome.of(dir.resolve("home")).create();
        BlobStore blobs = BlobStore.open(home);
        try (StoreRecords storeRecords = home.openStoreRecords();
             DataExports exports = new DataExports(LocalPublisher.open(home, blobs, storeRecords),
                     ExportRecords.open(home.db()))) {
            ExportRecord first = exportOf(exports, "run-1");
            assertThat(first.files()).isEqualTo(2);
            assertThat(blobs.has(first.fileHash())).isTrue();
            assertThat(storeRecords.find(first.message())).as("a STORE message other programs can name").isPresent();
            assertThat(entries(blobs, first.fileHash())).containsExactly("a.txt", "sub/", "sub/b.txt");

            ExportRecord second = exportOf(exports, "run-2");
            assertThat(second.fileHash()).as("deterministic zip").isEqualTo(first.fileHash());
            assertThat(exports.records().latest(PROGRAM, 10)).extracting(ExportRecord::execution)
                    .containsExactly("run-2", "run-1");

            Path work = Files.createDirectories(dir.resolve("empty-run"));
            Drive empty = DataExports.drive(work, 1);
            assertThat(exports.pack(spec(work, empty), PROGRAM, "run-3")).as("nothing written, nothing exported").isEmpty();
        }
    }

    ExportRecord exportOf(DataExports exports, String execution) throws Exception {
        Path work = Files.createDirectories(dir.resolve(execution));
        Path content = Files.createDirectories(work.resolve("content/sub"));
        Files.writeString(content.getParent().resolve("a.txt"), "alpha");
        Files.writeString(content.resolve("b.txt"), "beta");
        Path image = work.resolve("export1.ext4");
        try (var raf = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            raf.setLength(16L << 20);
        }
        Process p = new ProcessBuilder(Ext4Images.tool("mkfs.ext4").toString(), "-q", "-F", "-d", content.getParent().toString(),
                image.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor()).as(new String(p.getInputStream().readAllBytes())).isZero();
        var r = exports.pack(spec(work, new Drive("export1", image, false)), PROGRAM, execution);
        assertThat(r).isPresent();
        return r.get();
    }

    static VmSpec spec(Path work, Drive drive) {
        return new VmSpec("vm", work.resolve("vmlinux"), work.resolve("rootfs"), "squashfs", List.of(drive), 128, 1,
                List.of(), work, Duration.ofSeconds(30));
    }

    static List<String> entries(BlobStore blobs, ItemHash zip) throws Exception {
        List<String> names = new ArrayList<>();
        try (InputStream in = blobs.open(zip); ZipInputStream z = new ZipInputStream(in)) {
            for (var e = z.getNextEntry(); e != null; e = z.getNextEntry()) names.add(e.getName());
        }
        return names;
    }
}
