package dev.kiln.builder.runtime;

import dev.kiln.builder.kernel.StepTiming;
import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.StepSequence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs a runtime build's steps through the shared {@link StepSequence}, reporting to a {@link RuntimeBuildListener}. */
final class RuntimeStepRunner {

    private final RuntimeBuildListener listener;
    private final BuildLog log;
    private final List<StepTiming> timings = new ArrayList<>();

    RuntimeStepRunner(RuntimeBuildListener listener, BuildLog log) {
        this.listener = listener;
        this.log = log;
    }

    List<StepTiming> timings() {
        return List.copyOf(timings);
    }

    List<StepTiming> run(List<RuntimeStep> steps) throws RuntimeBuildException, InterruptedException {
        List<StepSequence.Step> sequence = steps.stream()
                .map(s -> new StepSequence.Step(s.name(), s.typicalDuration(), p -> s.run(p::report))).toList();
        new StepSequence(log, new StepSequence.Events() {
            @Override
            public void progress(String step, int number, int count, double stepFraction, double overall, String message) {
                listener.onProgress(new RuntimeBuildProgress(step, number, count, stepFraction, overall, message));
            }

            @Override
            public void finished(String step, Duration took) {
                timings.add(new StepTiming(step, took));
                listener.onStepFinished(step, took);
            }
        }).run(sequence, RuntimeBuildException.class, RuntimeBuildException::new);
        return timings();
    }

    static String seconds(Duration d) {
        return StepSequence.seconds(d);
    }
}
