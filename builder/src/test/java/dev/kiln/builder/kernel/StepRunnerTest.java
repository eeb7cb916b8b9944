package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildProgress;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.builder.step.StepRunner;
import dev.kiln.builder.step.StepTiming;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StepRunnerTest {

    @TempDir
    Path dir;

    /** A step that reports halfway and then finishes, or fails with an IOException. */
    record FixedStep(String name, Duration typicalDuration, boolean fails) implements BuildStep {
        @Override
        public void run(StepProgress progress) throws IOException {
            progress.report(0.5, name + " halfway");
            if (fails) throw new IOException(name + " broke");
        }
    }

    @Test
    void overallProgressWeighsStepsByTheirTypicalDuration() throws Exception {
        List<BuildProgress> events = new ArrayList<>();
        List<String> finished = new ArrayList<>();
        BuildListener listener = new BuildListener() {
            @Override
            public void onProgress(BuildProgress progress) {
                events.add(progress);
            }

            @Override
            public void onStepFinished(String step, Duration took) {
                finished.add(step);
            }
        };

        try (BuildLog log = new BuildLog(dir.resolve("build.log"))) {
            List<StepTiming> timings = KernelBuilder.runner(listener, log).run(List.of(
                    new FixedStep("Short", Duration.ofSeconds(1), false),
                    new FixedStep("Long", Duration.ofSeconds(9), false)));
            assertThat(timings).extracting(StepTiming::step).containsExactly("Short", "Long");
        }

        assertThat(finished).containsExactly("Short", "Long");
        assertThat(events).extracting(BuildProgress::overallFraction).isSorted();
        assertThat(events.getFirst().overallFraction()).isZero();
        assertThat(events.getLast().overallFraction()).isEqualTo(1.0);
        // The first step is a tenth of the work: when it ends, the bar is at 10 %.
        BuildProgress shortDone = events.stream()
                .filter(e -> e.step().equals("Short") && e.stepFraction() == 1).findFirst().orElseThrow();
        assertThat(shortDone.overallFraction()).isCloseTo(0.1, Offset.offset(1e-9));
        assertThat(events).allSatisfy(e -> assertThat(e.stepCount()).isEqualTo(2));
        assertThat(events.getLast().stepNumber()).isEqualTo(2);
    }

    @Test
    void aFailureNamesTheStepAndCarriesTheLogTail() throws Exception {
        Path logFile = dir.resolve("build.log");
        try (BuildLog log = new BuildLog(logFile)) {
            log.line("compiler said: something is wrong");
            StepRunner<KernelBuildException> runner = KernelBuilder.runner(BuildListener.SILENT, log);

            assertThatThrownBy(() -> runner.run(List.of(
                    new FixedStep("Fine", Duration.ofSeconds(1), false),
                    new FixedStep("Broken", Duration.ofSeconds(1), true),
                    new FixedStep("NeverRuns", Duration.ofSeconds(1), false))))
                    .isInstanceOfSatisfying(KernelBuildException.class, e -> {
                        assertThat(e.step()).isEqualTo("Broken");
                        assertThat(e.getMessage()).isEqualTo("Broken broke");
                        assertThat(e.logTail()).contains("compiler said: something is wrong", "=== Broken");
                        assertThat(e.log()).isEqualTo(logFile);
                        assertThat(e.report()).startsWith("kernel build failed in step Broken: Broken broke")
                                .contains("full log: " + logFile);
                    });
            assertThat(runner.timings()).extracting(StepTiming::step).containsExactly("Fine");
        }
        assertThat(logFile).content().contains("compiler said: something is wrong");
    }
}
