package dev.kiln.node.export;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.store.records.RecordsException;

/** The latest exports as JSON, for {@code /about/volumes}. */
public final class ExportListing {
    /** Enough to find a recent run's data; the records keep every export. */
    static final int LATEST = 50;

    private ExportListing() {}

    public static void write(ArrayNode into, DataExports exports) throws java.io.IOException {
        try {
            for (ExportRecord r : exports.records().latest(null, LATEST)) {
                ObjectNode o = into.addObject();
                o.put("program", r.program().value());
                o.put("execution", r.execution());
                o.put("message", r.message().value());
                o.put("file_hash", r.fileHash().value());
                o.put("size", r.size());
                o.put("files", r.files());
                o.put("skipped", r.skipped());
                o.put("exported_at", r.exportedAt().toString());
            }
        } catch (RecordsException e) {
            throw new java.io.IOException("the export records cannot be read: " + e.getMessage(), e);
        }
    }
}
