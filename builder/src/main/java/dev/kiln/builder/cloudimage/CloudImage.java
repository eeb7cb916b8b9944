package dev.kiln.builder.cloudimage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.builder.step.ExternalCommand;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A cloud disk image file as {@code qemu-img} sees it, checked before Kiln publishes it as a
 * qemu-disk-image runtime: qcow2 or raw only, standing alone (no backing file, no external data
 * file), not larger than {@link #MAX_VIRTUAL_BYTES}, intact ({@code qemu-img check}) and, for
 * raw, a partitioned disk (a boot signature ending sector 0). qemu-img calls any file it does not
 * recognise "raw"; the partition table check is what turns garbage away.
 *
 * @param file         the image
 * @param format       {@code qcow2} or {@code raw}
 * @param virtualBytes the disk's size as the guest sees it
 */
public record CloudImage(Path file, String format, long virtualBytes) {

    /** 64 GiB: far above any distribution's cloud image (2–3 GiB), far below a file that fills the store. */
    public static final long MAX_VIRTUAL_BYTES = 64L << 30;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Inspects {@code file}.
     *
     * @throws CloudImageException naming what is wrong with the file and what to do
     */
    public static CloudImage inspect(Path file) throws CloudImageException, InterruptedException {
        if (!Files.isRegularFile(file)) throw new CloudImageException("no file at " + file);
        Output infoRun = qemuImg(file, "info", "--output=json", "-U", file.toString());
        if (infoRun.status() != 0) {
            throw new CloudImageException("qemu-img cannot read " + file + " as a disk image: " + infoRun.text());
        }
        JsonNode info = json(infoRun.text(), file);
        String format = info.path("format").asText("");
        if (!format.equals("qcow2") && !format.equals("raw")) {
            throw new CloudImageException(file + " is a " + format + " image; Kiln takes qcow2 or raw disk images"
                    + " (convert it with 'qemu-img convert -O qcow2 " + file.getFileName() + " image.qcow2')");
        }
        if (info.hasNonNull("backing-filename") || info.hasNonNull("full-backing-filename")) {
            throw new CloudImageException(file + " has a backing file (" + info.path("backing-filename").asText()
                    + "): import a standalone image ('qemu-img convert -O qcow2' flattens it)");
        }
        if (info.path("format-specific").path("data").hasNonNull("data-file")) {
            throw new CloudImageException(file + " keeps its data in another file (qcow2 data-file): import a"
                    + " standalone image ('qemu-img convert -O qcow2' makes one)");
        }
        long virtual = info.path("virtual-size").asLong(-1);
        if (virtual <= 0) throw new CloudImageException("qemu-img reports no size for " + file);
        if (virtual > MAX_VIRTUAL_BYTES) {
            throw new CloudImageException(String.format(Locale.ROOT, "%s is a %.1f GiB disk; Kiln imports disk images"
                    + " of at most %d GiB (cloud images are 2–3 GiB and grow at first boot)", file,
                    virtual / (double) (1L << 30), MAX_VIRTUAL_BYTES >> 30));
        }
        if (format.equals("raw")) {
            if (!hasBootSignature(file)) {
                throw new CloudImageException(file + " is not a disk image: it is neither qcow2 nor a raw disk with"
                        + " a partition table (no boot signature at the end of its first sector)");
            }
        } else {
            // Exit 3 means leaked clusters only: wasted space, harmless to a read-only parent.
            Output checkRun = qemuImg(file, "check", "--output=json", "-U", file.toString());
            long corrupt = checkRun.status() == 0 || checkRun.status() == 3 ? 0
                    : Math.max(1, json(checkRun.text(), file).path("corruptions").asLong(0)
                    + json(checkRun.text(), file).path("check-errors").asLong(0));
            if (corrupt > 0) {
                throw new CloudImageException(file + " is damaged: qemu-img check finds " + corrupt
                        + " corruptions or errors (download it again and compare its checksum)");
            }
        }
        return new CloudImage(file, format, virtual);
    }

    private static boolean hasBootSignature(Path file) throws CloudImageException {
        byte[] sector = new byte[512];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(sector, 0, sector.length) < sector.length) return false;
        } catch (IOException e) {
            throw new CloudImageException("cannot read " + file + ": " + e.getMessage());
        }
        return (sector[510] & 0xff) == 0x55 && (sector[511] & 0xff) == 0xaa;
    }

    private record Output(int status, String text) {
    }

    /** Runs qemu-img, returning its exit status and output (qemu-img check reports damage by status). */
    private static Output qemuImg(Path file, String... args) throws CloudImageException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("qemu-img"));
        argv.addAll(List.of(args));
        StringBuilder out = new StringBuilder();
        try {
            int status = new ExternalCommand(argv, file.toAbsolutePath().getParent(), Map.of())
                    .run(line -> out.append(line).append('\n'));
            return new Output(status, out.toString().strip());
        } catch (IOException e) {
            throw new CloudImageException("cannot run qemu-img (package qemu-utils): " + e.getMessage());
        }
    }

    private static JsonNode json(String text, Path file) throws CloudImageException {
        try {
            return JSON.readTree(text.substring(Math.max(0, text.indexOf('{'))));
        } catch (IOException e) {
            throw new CloudImageException("qemu-img printed no JSON for " + file + ": " + text);
        }
    }
}
