package dev.kiln.builder.step;

import java.io.IOException;
import java.time.Duration;

/**
 * One small named part of a build (of the kernel, of a runtime). Steps share their results
 * through files in the build's workspace, in the order the {@link StepRunner} runs them.
 */
public interface BuildStep {

    /** Verb + noun, shown to the user: {@code UnpackSource}, {@code InstallPackages}. */
    String name();

    /**
     * How long the step usually takes on a 2-core machine: its weight in the overall progress.
     * Only the ratios matter.
     */
    Duration typicalDuration();

    /**
     * @throws StepFailedException with the build's own failure type when the step knows what went
     *                             wrong; anything else is wrapped by the runner
     */
    void run(StepProgress progress) throws IOException, InterruptedException, StepFailedException;
}
