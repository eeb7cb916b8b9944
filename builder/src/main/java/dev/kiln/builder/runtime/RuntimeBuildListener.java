package dev.kiln.builder.runtime;

import java.time.Duration;

/**
 * Receives a runtime build's progress, e.g. to draw a progress bar. Called from the building
 * thread; an implementation must be quick and must not throw.
 */
public interface RuntimeBuildListener {

    /** Nothing is shown: for tests and scripted use. */
    RuntimeBuildListener SILENT = progress -> { };

    void onProgress(RuntimeBuildProgress progress);

    /** A step ended successfully after {@code took}; the CLI lists these when the build ends. */
    default void onStepFinished(String step, Duration took) {
    }
}
