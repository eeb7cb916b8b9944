package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.StepSequence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs the kernel build's steps through the shared {@link StepSequence}, reporting to a {@link ProgressListener}. */
final class StepRunner {

    private final ProgressListener listener;
    private final BuildLog log;
    private final List<StepTiming> timings = new ArrayList<>();

    StepRunner(ProgressListener listener, BuildLog log) {
        this.listener = listener;
        this.log = log;
    }

    /** The steps finished so far, in order. */
    List<StepTiming> timings() {
        return List.copyOf(timings);
    }

    List<StepTiming> run(List<BuildStep> steps) throws KernelBuildException, InterruptedException {
        List<StepSequence.Step> sequence = steps.stream()
                .map(s -> new StepSequence.Step(s.name(), s.typicalDuration(), p -> s.run(p::report))).toList();
        new StepSequence(log, new StepSequence.Events() {
            @Override
            public void progress(String step, int number, int count, double stepFraction, double overall, String message) {
                listener.onProgress(new KernelBuildProgress(step, number, count, stepFraction, overall, message));
            }

            @Override
            public void finished(String step, Duration took) {
                timings.add(new StepTiming(step, took));
                listener.onStepFinished(step, took);
            }
        }).run(sequence, KernelBuildException.class, KernelBuildException::new);
        return timings();
    }

    static String seconds(Duration d) {
        return StepSequence.seconds(d);
    }
}
