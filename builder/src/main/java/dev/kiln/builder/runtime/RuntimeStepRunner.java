package dev.kiln.builder.runtime;

import dev.kiln.builder.kernel.StepTiming;
import dev.kiln.builder.step.BuildLog;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs a build's steps in order. It is given all steps before the first one starts, so the overall
 * fraction is measured against the whole build. Any failure becomes a {@link RuntimeBuildException}
 * naming the step and carrying the log's tail.
 */
final class RuntimeStepRunner {

    private static final long MIN_NANOS_BETWEEN_EVENTS = 100_000_000L;

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
        double total = steps.stream().mapToDouble(RuntimeStepRunner::weight).sum();
        double done = 0;
        for (int i = 0; i < steps.size(); i++) {
            RuntimeStep step = steps.get(i);
            Reporter reporter = new Reporter(step.name(), i + 1, steps.size(), done / total, weight(step) / total);
            log.line("=== " + step.name());
            long start = System.nanoTime();
            reporter.emit(0, "", true);
            try {
                step.run(reporter);
            } catch (RuntimeBuildException e) {
                flushQuietly();
                throw e;
            } catch (IOException | RuntimeException e) {
                log.line("failed: " + e.getMessage());
                flushQuietly();
                throw new RuntimeBuildException(step.name(), String.valueOf(e.getMessage()), log.tail(), log.file(), e);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            reporter.emit(1, "done in " + seconds(took), true);
            log.line("=== " + step.name() + " done in " + seconds(took));
            timings.add(new StepTiming(step.name(), took));
            listener.onStepFinished(step.name(), took);
            done += weight(step);
        }
        flushQuietly();
        return timings();
    }

    private static double weight(RuntimeStep step) {
        return Math.max(1, step.typicalDuration().toMillis());
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private void flushQuietly() {
        try {
            log.flush();
        } catch (IOException ignored) {
            // the failure being reported matters more than the log's last buffered lines
        }
    }

    /** Turns one step's own fraction into overall progress, throttled and never going backwards. */
    private final class Reporter implements RuntimeStep.Progress {
        private final String step;
        private final int number;
        private final int count;
        private final double base;
        private final double share;
        private double fraction;
        private long lastEventNanos;

        Reporter(String step, int number, int count, double base, double share) {
            this.step = step;
            this.number = number;
            this.count = count;
            this.base = base;
            this.share = share;
        }

        @Override
        public void report(double reported, String message) {
            emit(reported, message, false);
        }

        void emit(double reported, String message, boolean always) {
            fraction = Math.max(fraction, Math.min(1, reported));
            long now = System.nanoTime();
            if (!always && now - lastEventNanos < MIN_NANOS_BETWEEN_EVENTS) return;
            lastEventNanos = now;
            listener.onProgress(new RuntimeBuildProgress(step, number, count, fraction,
                    Math.min(1, base + share * fraction), message));
        }
    }
}
