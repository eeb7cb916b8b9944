package dev.kiln.node;

import dev.kiln.node.console.LocalRuntimeList;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.Fetcher;
import dev.kiln.store.KilnHome;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.vm.VmLauncher;
import java.util.Objects;

/**
 * What the node works with, opened by its caller (the CLI's context, or a test). The node closes
 * only the launcher (which stops every VM it started); the stores stay the caller's.
 */
public record NodeServices(KilnHome home, BlobStore blobs, StoreRecords storeRecords, Fetcher fetcher,
                           NodeRecords nodeRecords, VmLauncher launcher, LocalRuntimeList localRuntimes) {
    public NodeServices {
        localRuntimes = localRuntimes == null ? LocalRuntimeList.NONE : localRuntimes;
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(blobs, "blobs");
        Objects.requireNonNull(storeRecords, "storeRecords");
        Objects.requireNonNull(fetcher, "fetcher");
        Objects.requireNonNull(nodeRecords, "nodeRecords");
        Objects.requireNonNull(launcher, "launcher");
    }

    /** Without local runtimes (tests, embedders that build none). */
    public NodeServices(KilnHome home, BlobStore blobs, StoreRecords storeRecords, Fetcher fetcher, NodeRecords nodeRecords,
                        VmLauncher launcher) {
        this(home, blobs, storeRecords, fetcher, nodeRecords, launcher, LocalRuntimeList.NONE);
    }
}
