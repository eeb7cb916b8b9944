package dev.kiln.store.remote;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Closes a response body that stops delivering bytes. The JDK HTTP client has no read timeout
 * for bodies, so without this a server that sends headers and then nothing would hang a download
 * forever; closing the stream makes the blocked read throw, which the download treats as a
 * transient failure.
 */
final class StallWatch implements AutoCloseable {
    private final Closeable body;
    private final long timeoutNanos;
    private final Thread watcher;
    private volatile long lastProgress = System.nanoTime();
    private volatile boolean stalled;
    private volatile boolean finished;

    StallWatch(Closeable body, Duration timeout) {
        this.body = body;
        this.timeoutNanos = timeout.toNanos();
        this.watcher = Thread.ofVirtual().name("kiln-stall-watch").start(this::watch);
    }

    void progressed() {
        lastProgress = System.nanoTime();
    }

    boolean stalled() {
        return stalled;
    }

    @Override
    public void close() {
        finished = true;
        LockSupport.unpark(watcher);
    }

    private void watch() {
        while (!finished) {
            long idle = System.nanoTime() - lastProgress;
            if (idle >= timeoutNanos) {
                stalled = true;
                try {
                    body.close();
                } catch (IOException ignored) {
                    // the reader sees the failure either way
                }
                return;
            }
            LockSupport.parkNanos(timeoutNanos - idle);
        }
    }
}
