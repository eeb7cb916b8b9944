package dev.kiln.cli.setup;

import java.time.Duration;

/**
 * Told how the node's first-start preparation goes: which step runs, how far a long one (the
 * kernel or runtime build) is, what each step produced. Called from the preparing thread; keep it
 * quick.
 */
public interface SetupListener {
    SetupListener SILENT = new SetupListener() {
    };

    default void stepStarted(String step, int number, int count) {
    }

    /** {@code fraction} of the running step is done (0 to 1). */
    default void progress(String step, double fraction, String message) {
    }

    /** The step finished after {@code took}; {@code outcome} says what it produced or reused. */
    default void stepFinished(String step, Duration took, String outcome) {
    }
}
