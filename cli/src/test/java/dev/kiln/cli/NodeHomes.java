package dev.kiln.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fresh Kiln home for a node test whose kernel and runtime image caches are those of the shared
 * test home ({@code ~/.cache/kiln-test}, or {@code -Dkiln.test.home}): the node and vm tests build
 * them once per machine, and {@code kiln node} here reuses them instead of building for minutes.
 */
final class NodeHomes {
    private NodeHomes() {
    }

    static Path sharedTestHome() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    static Path create(Path home) throws IOException {
        Path shared = sharedTestHome();
        Files.createDirectories(shared.resolve("kernels"));
        Files.createDirectories(shared.resolve("runtimes").resolve("images"));
        Files.createDirectories(home.resolve("runtimes"));
        Files.createSymbolicLink(home.resolve("kernels"), shared.resolve("kernels"));
        Files.createSymbolicLink(home.resolve("runtimes").resolve("images"), shared.resolve("runtimes").resolve("images"));
        return home;
    }
}
