package dev.kiln.store.remote;

import java.io.IOException;
import java.time.Duration;

/**
 * Told about a download as it happens (from the downloading thread; keep it cheap). After a retry
 * the count starts again from zero, because the download restarts from the first byte.
 */
@FunctionalInterface
public interface DownloadProgress {

    /** {@code total} when the remote sent no Content-Length. */
    long UNKNOWN = -1;

    DownloadProgress NONE = (received, total) -> {};

    /** {@code received} bytes so far of {@code total} (or {@link #UNKNOWN}). */
    void progress(long received, long total);

    /** Attempt number {@code failedAttempt} failed transiently; the next starts after {@code delay}. */
    default void retrying(int failedAttempt, Duration delay, IOException cause) {}
}
