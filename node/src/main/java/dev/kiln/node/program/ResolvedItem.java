package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A reference of a program (its code, runtime, a volume, its data) turned into a verified local file.
 *
 * @param field    where the reference is in the message, e.g. {@code code.ref}, for error messages
 * @param ref      the reference as written (a STORE message hash, or a file hash)
 * @param resolved the STORE message used (the latest amend with use_latest), or the file hash
 *                 itself when the reference named the file directly
 * @param fileHash the file's SHA-256
 */
public record ResolvedItem(String field, ItemHash ref, ItemHash resolved, ItemHash fileHash, Path file) {
    public ResolvedItem {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(ref, "ref");
        Objects.requireNonNull(resolved, "resolved");
        Objects.requireNonNull(fileHash, "fileHash");
        Objects.requireNonNull(file, "file");
    }
}
