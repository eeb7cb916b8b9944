package dev.kiln.vm.snapshot;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A snapshot directory and its manifest: {@code ram} (guest RAM, sparse, mapped copy-on-write by
 * every restored VM), {@code state} (QEMU's device state) and {@code manifest.json}.
 * Opening reads the manifest only; {@link SnapshotVerifier} checks the files.
 */
public record Snapshot(Path directory, SnapshotManifest manifest) {
    public Snapshot {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(manifest, "manifest");
        directory = directory.toAbsolutePath().normalize();
    }

    /** @throws SnapshotException MISSING or CORRUPT (see {@link SnapshotManifest#read}) */
    public static Snapshot open(Path directory) throws SnapshotException {
        return new Snapshot(directory, SnapshotManifest.read(directory));
    }

    public SnapshotKey key() {
        return new SnapshotKey(manifest.key());
    }

    public Path ram() {
        return directory.resolve(SnapshotManifest.RAM);
    }

    public Path state() {
        return directory.resolve(SnapshotManifest.STATE);
    }
}
