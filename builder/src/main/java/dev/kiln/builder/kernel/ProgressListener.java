package dev.kiln.builder.kernel;

import java.time.Duration;

/**
 * Receives a kernel build's progress, e.g. to draw a progress bar. Called from the building
 * thread; an implementation must be quick and must not throw.
 */
public interface ProgressListener {

    /** Nothing is shown: for tests and scripted use. */
    ProgressListener SILENT = progress -> { };

    void onProgress(KernelBuildProgress progress);

    /** A step ended successfully after {@code took}; the CLI lists these when the build ends. */
    default void onStepFinished(String step, Duration took) {
    }
}
