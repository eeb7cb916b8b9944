package dev.kiln.builder.step;

import java.time.Duration;

/**
 * Receives a build's progress, e.g. to draw a progress bar. Called from the building thread; an
 * implementation must be quick and must not throw.
 */
public interface BuildListener {

    /** Nothing is shown: for tests and scripted use. */
    BuildListener SILENT = progress -> { };

    void onProgress(BuildProgress progress);

    /** A step ended successfully after {@code took}; the CLI lists these when the build ends. */
    default void onStepFinished(String step, Duration took) {
    }
}
