package dev.kiln.builder.runtime;

import java.io.IOException;
import java.time.Duration;

/**
 * One small named part of a runtime build. Steps work on the build's root filesystem tree in the
 * workspace, in the order the runner runs them.
 */
interface RuntimeStep {

    /** Verb + noun, shown to the user: {@code InstallPackages}. */
    String name();

    /** How long the step usually takes on a 2-core machine: its weight in the overall progress. */
    Duration typicalDuration();

    void run(Progress progress) throws IOException, InterruptedException, RuntimeBuildException;

    /** What a running step tells the runner about itself. */
    @FunctionalInterface
    interface Progress {
        /** {@code fraction} of this step is done (0 to 1); values going backwards are ignored. */
        void report(double fraction, String message);
    }
}
