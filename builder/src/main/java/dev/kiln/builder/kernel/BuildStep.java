package dev.kiln.builder.kernel;

import java.io.IOException;
import java.time.Duration;

/**
 * One small named part of the kernel build. Steps share their results through files in the
 * build's workspace, in the order the runner runs them.
 */
interface BuildStep {

    /** Verb + noun, shown to the user: {@code UnpackSource}. */
    String name();

    /**
     * How long the step usually takes on a 2-core machine: its weight in the overall progress.
     * Only the ratios matter.
     */
    Duration typicalDuration();

    void run(StepProgress progress) throws IOException, InterruptedException, KernelBuildException;
}
