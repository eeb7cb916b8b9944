package dev.kiln.builder.runtime;

import dev.kiln.builder.step.KeyLock;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The .debs downloaded by debootstrap and apt, under {@code <kiln home>/runtimes/packages/}, shared
 * by every build: a second build of anything downloads nothing that was downloaded before. apt
 * and debootstrap each assume they own the directory while they write to it, so writers take its
 * lock; builds that install nothing new never touch it.
 */
final class PackageCache {

    private PackageCache() {
    }

    static KeyLock lock(Path dir) throws IOException {
        return KeyLock.acquire(dir.resolveSibling("." + dir.getFileName() + ".lock"));
    }
}
