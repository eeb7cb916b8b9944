package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Packs the tree into the image: a squashfs (mksquashfs, zstd by default), an ext4 filesystem
 * (mke2fs -d), or a whole bootable disk holding that ext4 filesystem ({@link BootDisk}). Both are made reproducible: fixed filesystem and file times, no extended
 * attributes of the build host, and for ext4 a UUID and directory hash seed derived from the
 * spec instead of random ones. The image is written under a temporary name and renamed when
 * complete, so the output never holds half an image.
 */
final class PackImageStep implements BuildStep {

    private final RuntimeSpec spec;
    private final RootFs root;
    private final Path output;
    private final BuildLog log;
    private Path image;

    PackImageStep(RuntimeSpec spec, RootFs root, Path output, BuildLog log) {
        this.spec = spec;
        this.root = root;
        this.output = output;
        this.log = log;
    }

    @Override
    public String name() {
        return "PackImage";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(spec.output().format().equals(RuntimeSpec.Output.SQUASHFS) ? 25 : 8);
    }

    /** The image file name in the entry: {@code <name>.squashfs} or {@code <name>.ext4}. */
    static String fileName(RuntimeSpec spec) {
        return spec.name() + "." + spec.output().extension();
    }

    Path image() {
        if (image == null) throw new IllegalStateException("PackImage has not run");
        return image;
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        Files.createDirectories(output);
        Path target = output.resolve(fileName(spec));
        Path partial = output.resolve(fileName(spec) + ".part");
        Files.deleteIfExists(partial);
        long treeBytes = FileTrees.size(root.dir());
        progress.report(0.05, String.format(java.util.Locale.ROOT, "%s of %.0f MB", spec.output().format(), treeBytes / 1e6));
        switch (spec.output().format()) {
            case RuntimeSpec.Output.SQUASHFS -> squashfs(partial);
            case RuntimeSpec.Output.DISK -> disk(partial, treeBytes, progress);
            default -> ext4(partial, treeBytes);
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        image = target;
        log.line("image " + target.getFileName() + ": " + Files.size(target) + " bytes");
    }

    private void squashfs(Path partial) throws IOException, InterruptedException {
        String epoch = Long.toString(spec.sourceDateEpoch());
        List<String> argv = new ArrayList<>(List.of("mksquashfs", root.dir().toString(), partial.toString(),
                "-noappend", "-no-progress", "-quiet", "-no-xattrs", "-comp", spec.output().compression(),
                "-all-time", epoch, "-mkfs-time", epoch));
        if (spec.output().level() > 0) argv.addAll(List.of("-Xcompression-level", Integer.toString(spec.output().level())));
        log.run(new ExternalCommand(argv, root.dir(), Map.of()));
    }

    /** The ext4 filesystem first, then the disk around it; the partition image is removed. */
    private void disk(Path partial, long treeBytes, StepProgress progress) throws IOException, InterruptedException {
        Path partition = output.resolve(spec.name() + ".partition.part");
        Files.deleteIfExists(partition);
        try {
            ext4(partition, treeBytes);
            progress.report(0.7, "partition table and GRUB");
            BootDisk.assemble(partition, partial, diskId(spec), output, log);
        } finally {
            Files.deleteIfExists(partition);
        }
    }

    /** The root filesystem's UUID: derived from the spec, so rebuilds agree and grub.cfg can name it. */
    static UUID rootUuid(RuntimeSpec spec) {
        return UUID.nameUUIDFromBytes((spec.hash().value() + "/ext4").getBytes(StandardCharsets.UTF_8));
    }

    /** The MBR's disk identifier, derived from the spec like the filesystem's UUID. */
    static String diskId(RuntimeSpec spec) {
        return spec.hash().value().substring(0, 8);
    }

    /**
     * An ext4 image sized to the tree plus room for metadata and a little free space (a writable
     * instance root grows; a function runtime is mounted read-only and gets an overlay anyway).
     */
    private void ext4(Path partial, long treeBytes) throws IOException, InterruptedException {
        long size = Math.max(64L << 20, (long) (treeBytes * 1.3) + (32L << 20));
        size = (size + (1 << 20) - 1) / (1 << 20) * (1 << 20);
        UUID uuid = rootUuid(spec);
        UUID seed = UUID.nameUUIDFromBytes((spec.hash().value() + "/hash-seed").getBytes(StandardCharsets.UTF_8));
        List<String> argv = List.of("mkfs.ext4", "-q", "-F", "-t", "ext4", "-L", label(),
                "-U", uuid.toString(), "-E", "hash_seed=" + seed + ",root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0",
                "-d", root.dir().toString(), partial.toString(), (size >> 10) + "k");
        // mke2fs stamps the superblock, inodes and journal with the current time unless told otherwise.
        Map<String, String> fakeTime = Map.of("E2FSPROGS_FAKE_TIME", Long.toString(spec.sourceDateEpoch()));
        log.run(new ExternalCommand(argv, root.dir(), fakeTime));
        fixInodeTimes(partial, fakeTime);
        log.run(ExternalCommand.of(root.dir(), "e2fsck", "-f", "-n", partial.toString()));
    }

    /**
     * mke2fs copies each file's ctime (which no one can set: it is the time of the tree's last
     * change, during this build) and its atime (which reading the file for the copy just bumped).
     * debugfs sets both to SOURCE_DATE_EPOCH on every inode in use; inodes are allocated from the
     * start of the table, so "in use" is the first (count - free) inodes plus the reserved ones.
     */
    private void fixInodeTimes(Path image, Map<String, String> fakeTime) throws IOException, InterruptedException {
        String header = ExternalCommand.of(root.dir(), "dumpe2fs", "-h", image.toString()).capture(Duration.ofMinutes(1));
        long count = headerNumber(header, "Inode count");
        long free = headerNumber(header, "Free inodes");
        long last = Math.min(count, count - free + 16);
        Path commands = output.resolve("debugfs-times.txt");
        StringBuilder text = new StringBuilder();
        String at = "@" + spec.sourceDateEpoch();
        for (long i = 1; i <= last; i++) {
            text.append("sif <").append(i).append("> ctime ").append(at).append('\n');
            text.append("sif <").append(i).append("> atime ").append(at).append('\n');
        }
        Files.writeString(commands, text);
        try {
            int status = new ExternalCommand(List.of("debugfs", "-w", "-f", commands.toString(), image.toString()),
                    root.dir(), fakeTime).run(line -> { });
            if (status != 0) throw new IOException("debugfs could not set the inode times of " + image.getFileName());
        } finally {
            Files.deleteIfExists(commands);
        }
        log.line("ext4: set ctime and atime of inodes 1.." + last + " to " + at);
    }

    private static long headerNumber(String header, String field) throws IOException {
        for (String line : header.split("\n")) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).strip());
        }
        throw new IOException("dumpe2fs printed no '" + field + "'");
    }

    private String label() {
        String name = spec.name();
        return name.length() > 16 ? name.substring(0, 16) : name;
    }

    /** SHA-256 of the packed image. */
    ItemHash hash() throws IOException {
        return ItemHash.sha256Of(image());
    }
}
