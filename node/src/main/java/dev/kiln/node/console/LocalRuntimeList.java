package dev.kiln.node.console;

import dev.kiln.core.catalogue.RuntimeEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The runtimes built and published on this machine, for the console's runtime table. The builder
 * keeps them; the node does not depend on the builder, so whoever starts the node (the CLI) hands
 * this in.
 */
@FunctionalInterface
public interface LocalRuntimeList {
    /** No local runtimes: only the official catalogue is shown. */
    LocalRuntimeList NONE = List::of;

    /**
     * A local runtime's catalogue entry, its image size (null if unknown) and the builder's
     * {@code manifest.json} of its image (null if it was not built here), whose SBOM the console serves.
     */
    record Local(RuntimeEntry entry, Long sizeBytes, Path manifest) {
        public Local(RuntimeEntry entry, Long sizeBytes) {
            this(entry, sizeBytes, null);
        }
    }

    List<Local> list() throws IOException;
}
