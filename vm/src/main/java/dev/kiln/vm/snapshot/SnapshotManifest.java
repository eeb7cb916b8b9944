package dev.kiln.vm.snapshot;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code manifest.json} of a snapshot directory: what the snapshot was taken from and how to
 * check that a restore would get the same guest (docs/snapshots.md, "What is saved").
 *
 * @param format       {@link #FORMAT}; another value is refused as incompatible
 * @param key          the key the snapshot was filed under
 * @param created      when it was taken (ISO-8601, UTC)
 * @param qemu         QEMU's version as its monitor reports it; a restore needs the very same
 * @param machine      QEMU machine type
 * @param accelerator  {@code tcg} or {@code kvm}
 * @param memoryMiB    guest RAM
 * @param vcpus        virtual CPUs
 * @param kernel       the guest kernel file (its bytes are loaded into guest RAM, so they must match)
 * @param drives       the drives in device order, root first
 * @param commandShape QEMU's command line with this machine's paths replaced by placeholders: a
 *                     restore's must be identical, which catches every device the saved state
 *                     expects (and any change of Kiln's own command line)
 * @param files        {@code ram} and {@code state}, by size and SHA-256
 * @param save         how the save went
 */
public record SnapshotManifest(int format, String key, String created, String qemu, String machine, String accelerator,
                               int memoryMiB, int vcpus, FileIdentity kernel, List<DriveIdentity> drives,
                               List<String> commandShape, Map<String, FileIdentity> files, SaveTimings save) {
    public static final int FORMAT = 1;
    public static final String FILE = "manifest.json";
    public static final String RAM = "ram";
    public static final String STATE = "state";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public SnapshotManifest {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(qemu, "qemu");
        drives = drives == null ? List.of() : List.copyOf(drives);
        commandShape = commandShape == null ? List.of() : List.copyOf(commandShape);
        files = files == null ? Map.of() : Map.copyOf(files);
    }

    /** @param sha256 lower-case hex */
    public record FileIdentity(long size, String sha256) {}

    public record DriveIdentity(String id, long size, boolean readOnly) {}

    /**
     * @param pauseMillis the guest's pause (stop to cont): requests in flight wait this long
     * @param stateMillis writing the device state
     * @param copyMillis  copying guest RAM to the snapshot
     * @param hashMillis  hashing the files, after the guest runs again
     */
    public record SaveTimings(double pauseMillis, double stateMillis, double copyMillis, double hashMillis) {}

    public void write(Path directory) throws IOException {
        Path tmp = directory.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, directory.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** @throws SnapshotException MISSING without a manifest, CORRUPT if it does not parse */
    public static SnapshotManifest read(Path directory) throws SnapshotException {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) throw new SnapshotException(SnapshotException.Reason.MISSING, "no snapshot manifest at " + file);
        try {
            SnapshotManifest m = JSON.readValue(file.toFile(), SnapshotManifest.class);
            if (m.files().get(RAM) == null || m.files().get(STATE) == null) {
                throw new SnapshotException(SnapshotException.Reason.CORRUPT, "snapshot manifest " + file + " lists no ram or state file");
            }
            return m;
        } catch (IOException | RuntimeException e) {
            throw new SnapshotException(SnapshotException.Reason.CORRUPT, "snapshot manifest " + file + " is unreadable: " + e.getMessage(), e);
        }
    }
}
