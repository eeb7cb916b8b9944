package dev.kiln.builder.step;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finished build outputs under one directory, one entry directory per key (the key's directory
 * name), with the same layout for kernels and runtime images:
 * <pre>
 * root/
 *   NAME/          a complete entry
 *   NAME.log       the full log of the build that made (or failed to make) it
 *   .NAME.lock     single-flight: one build of a key at a time, across processes
 *   .build-NAME/   workspace of a running (or killed) build
 * </pre>
 * An entry directory only ever appears by an atomic rename of a finished workspace output, so a
 * build killed at any moment leaves no half-written entry; its workspace is removed by the next
 * build of the same key, which holds the key's lock. What an entry holds and how it is verified
 * is the build's own business ({@link EntryReader}).
 */
public final class BuildCache {

    /** Reads and verifies one entry directory. */
    @FunctionalInterface
    public interface EntryReader<T> {
        /**
         * @return the entry, or {@link Lookup#stale(String)} with why it cannot be used
         * @throws IOException if a file of the entry is missing or unreadable
         */
        Lookup<T> read(Path entry) throws IOException;
    }

    /** The result of looking for an entry: a verified one, or why there is none (null problem: not built yet). */
    public record Lookup<T>(T entry, String problem) {

        public static <T> Lookup<T> found(T entry) {
            return new Lookup<>(entry, null);
        }

        public static <T> Lookup<T> stale(String problem) {
            return new Lookup<>(null, problem);
        }

        public boolean hit() {
            return entry != null;
        }
    }

    /** A build of one entry into {@code workspace}, logging to {@code log}. */
    @FunctionalInterface
    public interface Build<T, E extends StepFailedException> {
        T run(Path workspace, BuildLog log) throws E, IOException, InterruptedException;
    }

    /** What to do when there is no usable entry; {@code staleProblem} says why an existing one was not (or null). */
    @FunctionalInterface
    public interface Fresh<T, E extends StepFailedException> {
        T build(String staleProblem) throws E, IOException, InterruptedException;
    }

    private final Path root;

    public BuildCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path entry(String name) {
        return root.resolve(name);
    }

    public Path logFile(String name) {
        return root.resolve(name + ".log");
    }

    /** The scratch directory of a build, next to the entries so the finished one renames into place. */
    public Path workspace(String name) {
        return root.resolve(".build-" + name);
    }

    /**
     * Takes the key's build lock, waiting for another build of the same key (in this or another
     * process) to finish; the caller then looks the entry up again and usually finds it.
     */
    public KeyLock lock(String name) throws IOException {
        return KeyLock.acquire(root.resolve("." + name + ".lock"));
    }

    /** Finds the entry for {@code name} and has {@code reader} verify it. */
    public <T> Lookup<T> lookup(String name, EntryReader<T> reader) {
        Path entry = entry(name);
        if (!Files.isDirectory(entry)) return new Lookup<>(null, null);
        try {
            return reader.read(entry);
        } catch (NoSuchFileException e) {
            return Lookup.stale("the cached entry lacks " + e.getFile());
        } catch (IOException | RuntimeException e) {
            return Lookup.stale("the cached entry is unreadable: " + e.getMessage());
        }
    }

    /**
     * The verified entry for {@code name}, reported to {@code listener} as the single step
     * {@code cacheStep}; without one, {@code fresh} builds it. Single-flight per key: the lookup
     * happens under the key's lock.
     */
    public <T, E extends StepFailedException> T reuseOrBuild(String name, EntryReader<T> reader, BuildListener listener,
                                                             String cacheStep, Fresh<T, E> fresh)
            throws E, IOException, InterruptedException {
        try (KeyLock _ = lock(name)) {
            // Looked up under the lock: a build that was running when we arrived has now finished.
            Lookup<T> found = lookup(name, reader);
            if (found.hit()) {
                markUsed(entry(name));
                listener.onProgress(new BuildProgress(cacheStep, 1, 1, 1, 1, "cached " + name));
                return found.entry();
            }
            return fresh.build(found.problem());
        }
    }

    /**
     * An entry's directory time is when it was last built or reused, so listings can put the
     * entry of a spec's current key before older ones: the time a build was made says nothing
     * when a spec changes and then changes back.
     */
    private static void markUsed(Path entry) {
        try {
            Files.setLastModifiedTime(entry, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // a read-only cache still serves its entries; listings fall back to the build time
        }
    }

    /** When {@code entry} was last built or reused ({@link #reuseOrBuild}). */
    public static long lastUsedMillis(Path entry) {
        try {
            return Files.getLastModifiedTime(entry).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Runs {@code build} in a fresh workspace for {@code name} with the entry's log open, then
     * removes the workspace whatever happened: a build's tree is hundreds of MB to GBs, and the log
     * beside the entry is all that a failure needs.
     */
    public <T, E extends StepFailedException> T inWorkspace(String name, Build<T, E> build)
            throws E, IOException, InterruptedException {
        Path workspace = workspace(name);
        FileTrees.delete(workspace); // left by a killed build
        Files.createDirectories(workspace);
        try (BuildLog log = new BuildLog(logFile(name))) {
            return build.run(workspace, log);
        } finally {
            try {
                FileTrees.delete(workspace);
            } catch (IOException ignored) {
                // the next build of this key removes it
            }
        }
    }

    /**
     * Moves a finished output directory into place as the entry for {@code name}, replacing a
     * corrupt one. The rename is atomic: readers see the old entry, no entry, or the new one.
     */
    public Path commit(Path output, String name) throws IOException {
        Path entry = entry(name);
        if (Files.exists(entry)) {
            Path discarded = root.resolve(".discarded-" + name + "-" + System.nanoTime());
            Files.move(entry, discarded, StandardCopyOption.ATOMIC_MOVE);
            FileTrees.delete(discarded);
        }
        Files.move(output, entry, StandardCopyOption.ATOMIC_MOVE);
        return entry;
    }

    /** Every complete entry (one that has {@code marker}), sorted by name. */
    public List<Path> entries(String marker) throws IOException {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> Files.isRegularFile(p.resolve(marker)))
                    .sorted().toList();
        }
    }
}
