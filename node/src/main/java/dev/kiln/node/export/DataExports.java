package dev.kiln.node.export;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.volume.Ext4Images;
import dev.kiln.node.volume.VolumeException;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * PROGRAM {@code export}: the program's data directory ({@code export.mount}) is a writable ext4
 * drive of its own, and when the VM has stopped the node reads that image — without mounting it,
 * through e2fsprogs' {@code debugfs rdump} — packs its files into a zip, publishes the zip into the
 * store as a STORE message, and records it (ExportRecords, {@code /about/volumes}, a log line).
 *
 * <p>The zip is deterministic: entries in path order with one fixed timestamp, so the same data
 * gives the same hash. The drive is sparse, of {@link #SIZE_MIB}; its image is removed after the
 * pack, like a scratch volume.
 */
public final class DataExports implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DataExports.class.getName());
    /** Drive ids of export images start with this; nothing else the node attaches does. */
    static final String DRIVE_PREFIX = "export";
    /** How much the data directory may hold (sparse: only what is written takes disk). */
    public static final long SIZE_MIB = 256;
    /** 1980-01-01, zip's earliest time: the same files always make the same bytes. */
    private static final long ENTRY_TIME = 315532800000L;

    private final LocalPublisher publisher;
    private final ExportRecords records;

    public DataExports(LocalPublisher publisher, ExportRecords records) {
        this.publisher = publisher;
        this.records = records;
    }

    public ExportRecords records() {
        return records;
    }

    /** A writable drive holding an empty ext4 filesystem for the data directory. */
    public static Drive drive(Path workDir, int index) throws VolumeException {
        String id = DRIVE_PREFIX + index;
        Path file = workDir.resolve(id + ".ext4");
        Ext4Images.create(file, SIZE_MIB, true);
        return new Drive(id, file, false);
    }

    /** Removes the export images among {@code drives} (after the pack, or when the VM never ran). */
    public static void discard(List<Drive> drives) {
        for (Drive d : exportDrives(drives)) {
            try {
                Files.deleteIfExists(d.file());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not remove " + d.file() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Packs the stopped VM's data directory, if it has one; empty when there is none or nothing
     * in it. Never throws: a failed export is logged and the VM's end goes on.
     */
    public Optional<ExportRecord> pack(VmSpec spec, ItemHash program, String execution) {
        for (Drive d : exportDrives(spec.drives())) {
            try {
                return pack(d.file(), spec.workDir(), program, execution);
            } catch (VolumeException | IOException | UncheckedIOException e) {
                LOG.log(System.Logger.Level.WARNING, "the data of " + execution + " (program " + program
                        + ") was not exported: " + e.getMessage());
            }
        }
        return Optional.empty();
    }

    private Optional<ExportRecord> pack(Path image, Path workDir, ItemHash program, String execution)
            throws VolumeException, IOException {
        // A VM that did not unmount it (killed, or quit) may have left a journal to replay.
        Ext4Images.checkUnattended(image, "the data directory of " + execution);
        Path out = workDir.resolve("export-files");
        Path zip = workDir.resolve("export.zip");
        try {
            deleteTree(out);
            Files.createDirectories(out);
            Ext4Images.dumpTree(image, out);
            Counts counts = zip(out, zip);
            if (counts.files() == 0) {
                LOG.log(System.Logger.Level.INFO, execution + ": the data directory is empty; nothing exported");
                return Optional.empty();
            }
            StoreRecord stored = publisher.publish(zip, null);
            ExportRecord r = new ExportRecord(program, execution, stored.messageHash(), stored.fileHash(), Files.size(zip),
                    counts.files(), counts.skipped(), Instant.now());
            records.add(r);
            LOG.log(System.Logger.Level.INFO, "exported the data of " + execution + " (program " + program + "): "
                    + r.files() + " files, " + r.size() + " bytes zipped, STORE message " + r.message()
                    + " (file " + r.fileHash() + ")" + (r.skipped() > 0 ? "; " + r.skipped() + " links or special files left out" : ""));
            return Optional.of(r);
        } finally {
            deleteTree(out);
            Files.deleteIfExists(zip);
        }
    }

    private record Counts(int files, int skipped) {
    }

    private static Counts zip(Path root, Path zip) throws IOException {
        int files = 0;
        int skipped = 0;
        List<Path> entries;
        try (var walk = Files.walk(root)) {
            entries = walk.filter(p -> !p.equals(root)).sorted(Comparator.comparing(p -> root.relativize(p).toString()))
                    .toList();
        }
        try (OutputStream os = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(os)) {
            for (Path p : entries) {
                String name = root.relativize(p).toString();
                if (name.equals("lost+found") || name.startsWith("lost+found/")) continue;
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    z.putNextEntry(entry(name + "/"));
                    z.closeEntry();
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    z.putNextEntry(entry(name));
                    Files.copy(p, z);
                    z.closeEntry();
                    files++;
                } else {
                    skipped++;
                }
            }
        }
        return new Counts(files, skipped);
    }

    private static ZipEntry entry(String name) {
        ZipEntry e = new ZipEntry(name);
        e.setTime(ENTRY_TIME);
        return e;
    }

    private static List<Drive> exportDrives(List<Drive> drives) {
        return drives.stream().filter(d -> d.id().startsWith(DRIVE_PREFIX) && !d.readOnly()).toList();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Override
    public void close() {
        records.close();
    }
}
