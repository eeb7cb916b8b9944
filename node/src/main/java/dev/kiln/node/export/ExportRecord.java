package dev.kiln.node.export;

import dev.kiln.core.hash.ItemHash;
import java.time.Instant;
import java.util.Objects;

/**
 * One packed data directory: what {@code export} produced when a VM of {@code program} stopped.
 *
 * @param message  the STORE message recorded for the zip (what another program's {@code data.ref} names)
 * @param fileHash the zip's SHA-256
 * @param files    regular files packed
 * @param skipped  entries left out (symbolic links, devices, sockets: a zip of data holds files)
 */
public record ExportRecord(ItemHash program, String execution, ItemHash message, ItemHash fileHash, long size,
                           int files, int skipped, Instant exportedAt) {
    public ExportRecord {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(execution, "execution");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(fileHash, "fileHash");
        Objects.requireNonNull(exportedAt, "exportedAt");
    }
}
