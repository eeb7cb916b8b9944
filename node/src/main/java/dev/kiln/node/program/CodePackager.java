package dev.kiln.node.program;

import dev.kiln.core.message.Encoding;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Packs a program's code directory the way the message says it is encoded: a zip archive, or a
 * squashfs image (mksquashfs). Both are reproducible — entries sorted, times and owners fixed —
 * so the same directory packs to the same item hash.
 */
public final class CodePackager {
    /** 1980-01-01, the earliest time a zip entry can hold. */
    private static final FileTime ZIP_EPOCH = FileTime.fromMillis(315_532_800_000L);

    private CodePackager() {
    }

    /**
     * Packs {@code dir} into {@code out} (created or replaced).
     *
     * @throws PackagingException with what to do next (install squashfs-tools, fix the directory…)
     */
    public static Path pack(Path dir, Encoding encoding, Path out) throws PackagingException, InterruptedException {
        if (!Files.isDirectory(dir)) throw new PackagingException(dir + " is not a directory");
        try {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.deleteIfExists(out);
            return switch (encoding) {
                case ZIP -> zip(dir, out);
                case SQUASHFS -> squashfs(dir, out);
                case PLAIN -> throw new PackagingException("plain encoding is one file, not a directory:"
                        + " pass the file itself, or use --encoding zip or squashfs");
            };
        } catch (IOException e) {
            throw new PackagingException("packing " + dir + " failed: " + e.getMessage(), e);
        }
    }

    static Path zip(Path dir, Path out) throws IOException {
        List<Path> files = new ArrayList<>();
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted().toList()) {
                if (p.equals(dir)) continue;
                if (Files.isSymbolicLink(p)) {
                    throw new IOException(p + " is a symbolic link; the guest refuses links in zip archives:"
                            + " copy the file it points to, or use --encoding squashfs");
                }
                files.add(p);
            }
        }
        try (OutputStream raw = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(raw)) {
            for (Path p : files) {
                String name = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
                boolean directory = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                ZipEntry e = new ZipEntry(directory ? name + "/" : name);
                e.setLastModifiedTime(ZIP_EPOCH);
                e.setCreationTime(ZIP_EPOCH);
                e.setLastAccessTime(ZIP_EPOCH);
                e.setTime(ZIP_EPOCH.toMillis());
                zip.putNextEntry(e);
                if (!directory) Files.copy(p, zip);
                zip.closeEntry();
            }
        }
        return out;
    }

    static Path squashfs(Path dir, Path out) throws IOException, InterruptedException, PackagingException {
        List<String> cmd = List.of("mksquashfs", dir.toString(), out.toString(), "-noappend", "-quiet", "-no-progress",
                "-all-root", "-comp", "zstd", "-mkfs-time", "0", "-all-time", "0", "-no-xattrs");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new PackagingException("mksquashfs is not installed: install squashfs-tools (apt-get install"
                    + " squashfs-tools), or use --encoding zip", e);
        }
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new PackagingException("mksquashfs did not finish within 10 minutes");
        }
        if (p.exitValue() != 0) {
            throw new PackagingException("mksquashfs failed (exit " + p.exitValue() + "): " + output.strip());
        }
        return out;
    }


    static Encoding encodingOfFile(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".zip")) return Encoding.ZIP;
        if (name.endsWith(".squashfs") || name.endsWith(".sqfs")) return Encoding.SQUASHFS;
        return Encoding.PLAIN;
    }
}
