package dev.kiln.builder.step;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Single-flight for one cache key across threads and processes: a lock file per key, locked with
 * a {@link FileLock} (other processes) and a {@link ReentrantLock} (this JVM, since a FileLock
 * only excludes other processes). Builds of different keys never wait for each other.
 */
public final class KeyLock implements AutoCloseable {

    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private final ReentrantLock jvmLock;
    private final FileChannel channel;
    private final FileLock fileLock;

    private KeyLock(ReentrantLock jvmLock, FileChannel channel, FileLock fileLock) {
        this.jvmLock = jvmLock;
        this.channel = channel;
        this.fileLock = fileLock;
    }

    /** Waits until no other thread or process holds {@code file}'s lock, then holds it. */
    public static KeyLock acquire(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), f -> new ReentrantLock());
        jvmLock.lock();
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                return new KeyLock(jvmLock, channel, channel.lock());
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            jvmLock.unlock();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            fileLock.release();
            channel.close();
        } finally {
            jvmLock.unlock();
        }
    }
}
