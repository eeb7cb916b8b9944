package dev.kiln.vm.snapshot;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Snapshot directories under one root, one per {@link SnapshotKey}, at most {@code capBytes} in
 * all: committing a new snapshot evicts the least recently used ones until the rest fits.
 *
 * <pre>
 * root/
 *   &lt;key&gt;/             ram, state, manifest.json; the directory's mtime is its last use
 *   .staging-&lt;key&gt;-…/   a save in progress (removed at start-up if a crash left it)
 * </pre>
 *
 * <p>A snapshot is written in a staging directory and renamed into place whole, so a reader never
 * sees half a snapshot. Evicting a snapshot that running VMs were restored from is harmless: they
 * map the RAM file, and an unlinked file lives on until its last mapping goes.
 *
 * <p>Sizes are apparent sizes: the RAM file is sparse (only the pages the guest touched take
 * disk), so the cap is conservative by the guest's untouched memory.
 */
public final class SnapshotStore {
    private static final String STAGING = ".staging-";
    private static final System.Logger LOG = System.getLogger(SnapshotStore.class.getName());

    private final Path root;
    private final long capBytes;

    /** Creates the root if needed and removes staging directories a crashed save left behind. */
    public SnapshotStore(Path root, long capBytes) throws IOException {
        if (capBytes <= 0) throw new IllegalArgumentException("snapshot cap must be positive, got " + capBytes);
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.capBytes = capBytes;
        Files.createDirectories(this.root);
        try (Stream<Path> s = Files.list(this.root)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(STAGING)).toList()) deleteTree(p);
        }
    }

    public Path root() {
        return root;
    }

    public long capBytes() {
        return capBytes;
    }

    /**
     * The snapshot filed under {@code key}, marked as just used; empty if there is none.
     *
     * @throws SnapshotException CORRUPT if its manifest is unreadable (the snapshot is discarded)
     */
    public synchronized Optional<Snapshot> find(SnapshotKey key) throws SnapshotException {
        Path dir = root.resolve(key.value());
        if (!Files.isDirectory(dir)) return Optional.empty();
        Snapshot s;
        try {
            s = Snapshot.open(dir);
        } catch (SnapshotException e) {
            discard(key);
            throw e;
        }
        if (!s.manifest().key().equals(key.value())) {
            discard(key);
            throw new SnapshotException(SnapshotException.Reason.CORRUPT, "snapshot " + dir + " names key " + s.manifest().key()
                    + " in its manifest");
        }
        touch(dir);
        return Optional.of(s);
    }

    /** A fresh, empty directory to save a snapshot for {@code key} into; then {@link #commit} or {@link #abandon}. */
    public Path stage(SnapshotKey key) throws IOException {
        Path dir = root.resolve(STAGING + key.value() + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectory(dir);
        return dir;
    }

    /**
     * Moves a staged snapshot into place and evicts least recently used snapshots beyond the cap.
     * If another save for the same key won the race, its snapshot is kept and this one dropped.
     *
     * @throws SnapshotException if the staged snapshot's manifest is missing, unreadable or for another key
     */
    public synchronized Snapshot commit(SnapshotKey key, Path staged) throws SnapshotException, IOException {
        SnapshotManifest m = SnapshotManifest.read(staged);
        if (!m.key().equals(key.value())) {
            abandon(staged);
            throw new SnapshotException(SnapshotException.Reason.CORRUPT, "staged snapshot " + staged + " is for key " + m.key()
                    + ", not " + key.value());
        }
        Path dir = root.resolve(key.value());
        try {
            Files.move(staged, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
            if (!Files.isDirectory(dir)) throw e;
            abandon(staged);
        }
        touch(dir);
        evictBeyondCap(key);
        return Snapshot.open(dir);
    }

    /** Drops a staged snapshot (a failed save). */
    public void abandon(Path staged) {
        try {
            deleteTree(staged);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove the unfinished snapshot " + staged + ": " + e.getMessage());
        }
    }

    /** Removes the snapshot filed under {@code key}, if any (it was corrupt or incompatible). */
    public synchronized void discard(SnapshotKey key) {
        Path dir = root.resolve(key.value());
        if (!Files.exists(dir)) return;
        try {
            // Renamed first so that a concurrent find() sees it gone at once.
            Path doomed = root.resolve(STAGING + "discarded-" + UUID.randomUUID());
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(doomed);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove snapshot " + dir + ": " + e.getMessage());
        }
    }

    /** The keys of the stored snapshots, most recently used first. */
    public synchronized List<SnapshotKey> keys() throws IOException {
        return entries().stream().sorted(Comparator.comparing(Entry::lastUsed).reversed()).map(Entry::key).toList();
    }

    /** Apparent size of all stored snapshots. */
    public synchronized long sizeBytes() throws IOException {
        return entries().stream().mapToLong(Entry::bytes).sum();
    }

    private record Entry(SnapshotKey key, FileTime lastUsed, long bytes) {}

    private List<Entry> entries() throws IOException {
        List<Entry> list = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path dir : s.filter(Files::isDirectory).toList()) {
                String name = dir.getFileName().toString();
                if (name.startsWith(STAGING) || !name.matches("[0-9a-f]{64}")) continue;
                try {
                    list.add(new Entry(new SnapshotKey(name), Files.getLastModifiedTime(dir), treeSize(dir)));
                } catch (IOException e) {
                    // evicted or discarded meanwhile
                }
            }
        }
        return list;
    }

    private void evictBeyondCap(SnapshotKey keep) throws IOException {
        List<Entry> oldestFirst = new ArrayList<>(entries());
        oldestFirst.sort(Comparator.comparing(Entry::lastUsed));
        long total = oldestFirst.stream().mapToLong(Entry::bytes).sum();
        for (Entry e : oldestFirst) {
            if (total <= capBytes) break;
            if (e.key().equals(keep)) continue;
            LOG.log(System.Logger.Level.INFO, "evicting snapshot " + e.key().shortForm() + " (" + e.bytes()
                    + " bytes, last used " + e.lastUsed() + "): the snapshots exceed their cap of " + capBytes + " bytes");
            discard(e.key());
            total -= e.bytes();
        }
    }

    private static void touch(Path dir) {
        try {
            Files.setLastModifiedTime(dir, FileTime.from(Instant.now()));
        } catch (IOException e) {
            // only the LRU order suffers
        }
    }

    private static long treeSize(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            long total = 0;
            for (Path f : s.toList()) {
                if (Files.isRegularFile(f)) total += Files.size(f);
            }
            return total;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
