package dev.kiln.vm.snapshot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store with snapshot directories made by hand (real files, real hashes; no QEMU). */
class SnapshotStoreTest {
    @TempDir
    Path root;

    static SnapshotKey key(String name) {
        return SnapshotKey.builder().code(name).build();
    }

    /** Stages a snapshot whose ram and state files hold {@code bytes} bytes in all. */
    static Path staged(SnapshotStore store, SnapshotKey key, int bytes) throws IOException {
        Path dir = store.stage(key);
        Files.write(dir.resolve("ram"), new byte[bytes - 100]);
        Files.write(dir.resolve("state"), new byte[100]);
        SnapshotVerifier v = new SnapshotVerifier();
        new SnapshotManifest(SnapshotManifest.FORMAT, key.value(), Instant.now().toString(), "7.2.0", "microvm", "tcg", 256, 1, null,
                List.of(), List.of(), Map.of("ram", new SnapshotManifest.FileIdentity(bytes - 100, v.sha256(dir.resolve("ram"))),
                "state", new SnapshotManifest.FileIdentity(100, v.sha256(dir.resolve("state")))), null).write(dir);
        return dir;
    }

    static long manifestBytes(SnapshotStore store, SnapshotKey key) throws IOException {
        return Files.size(store.root().resolve(key.value()).resolve(SnapshotManifest.FILE));
    }

    @Test
    void committedSnapshotsAreFoundAndVerify() throws Exception {
        SnapshotStore store = new SnapshotStore(root, 1 << 20);
        SnapshotKey k = key("a");
        assertThat(store.find(k)).isEmpty();
        Snapshot s = store.commit(k, staged(store, k, 4000));
        assertThat(s.directory()).isEqualTo(root.resolve(k.value()));
        assertThat(store.find(k)).map(Snapshot::key).contains(k);
        new SnapshotVerifier().verify(s);
        try (var left = Files.list(root)) {
            assertThat(left).as("the staging directory was renamed into place").containsExactly(s.directory());
        }
    }

    @Test
    void theLeastRecentlyUsedSnapshotsAreEvictedBeyondTheCap() throws Exception {
        SnapshotStore probe = new SnapshotStore(root.resolve("probe"), 1 << 20);
        probe.commit(key("x"), staged(probe, key("x"), 10_000));
        long one = 10_000 + manifestBytes(probe, key("x"));
        // Room for three snapshots, not four.
        SnapshotStore store = new SnapshotStore(root.resolve("store"), 3 * one + one / 2);
        SnapshotKey a = key("a"), b = key("b"), c = key("c"), d = key("d");
        store.commit(a, staged(store, a, 10_000));
        age(store, a, 300);
        store.commit(b, staged(store, b, 10_000));
        age(store, b, 200);
        store.commit(c, staged(store, c, 10_000));
        age(store, c, 100);
        // a is used again: b is now the least recently used.
        assertThat(store.find(a)).isPresent();
        store.commit(d, staged(store, d, 10_000));

        assertThat(store.keys()).containsExactly(d, a, c);
        assertThat(store.find(b)).isEmpty();
        assertThat(store.sizeBytes()).isLessThanOrEqualTo(store.capBytes());
    }

    @Test
    void aSnapshotLargerThanTheCapIsKeptAloneRatherThanNever() throws Exception {
        SnapshotStore store = new SnapshotStore(root, 5_000);
        store.commit(key("a"), staged(store, key("a"), 4_000));
        store.commit(key("b"), staged(store, key("b"), 8_000));
        assertThat(store.keys()).containsExactly(key("b"));
    }

    @Test
    void damagedFilesAreCaughtAndAnUnreadableManifestDiscardsTheSnapshot() throws Exception {
        SnapshotStore store = new SnapshotStore(root, 1 << 20);
        SnapshotKey k = key("a");
        Snapshot s = store.commit(k, staged(store, k, 4000));
        SnapshotVerifier verifier = new SnapshotVerifier();
        verifier.verify(s);
        byte[] ram = Files.readAllBytes(s.ram());
        ram[17] = 1;
        Files.write(s.ram(), ram);
        // A write moves the modification time on; make sure it differs even on a coarse clock.
        Files.setLastModifiedTime(s.ram(), FileTime.from(Instant.now().plusSeconds(5)));
        assertThatThrownBy(() -> verifier.verify(s)).isInstanceOfSatisfying(SnapshotException.class,
                e -> assertThat(e.reason()).isEqualTo(SnapshotException.Reason.CORRUPT));
        Files.delete(s.state());
        assertThatThrownBy(() -> verifier.verify(s)).isInstanceOfSatisfying(SnapshotException.class,
                e -> assertThat(e.reason()).isIn(SnapshotException.Reason.CORRUPT, SnapshotException.Reason.MISSING));

        Files.writeString(s.directory().resolve(SnapshotManifest.FILE), "{not json");
        assertThatThrownBy(() -> store.find(k)).isInstanceOfSatisfying(SnapshotException.class,
                e -> assertThat(e.reason()).isEqualTo(SnapshotException.Reason.CORRUPT));
        assertThat(store.find(k)).as("discarded").isEmpty();
    }

    @Test
    void leftoverStagingDirectoriesAreRemovedAtStart() throws Exception {
        SnapshotStore first = new SnapshotStore(root, 1 << 20);
        Path unfinished = first.stage(key("a"));
        Files.writeString(unfinished.resolve("ram"), "half");
        new SnapshotStore(root, 1 << 20);
        assertThat(unfinished).doesNotExist();
    }

    private static void age(SnapshotStore store, SnapshotKey k, int seconds) throws IOException {
        Files.setLastModifiedTime(store.root().resolve(k.value()), FileTime.from(Instant.now().minusSeconds(seconds)));
    }
}
