package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildLog;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the build's steps in order. It is given all steps before the first one starts, so the
 * overall fraction is computed against the whole build's work rather than guessed as it goes.
 * Any failure is turned into a {@link KernelBuildException} naming the step and carrying the
 * log's tail.
 */
final class StepRunner {

    /** A progress bar redraws a few times per second at most; make prints thousands of lines. */
    private static final long MIN_NANOS_BETWEEN_EVENTS = 100_000_000L;

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
        double total = steps.stream().mapToDouble(StepRunner::weight).sum();
        double done = 0;
        for (int i = 0; i < steps.size(); i++) {
            BuildStep step = steps.get(i);
            Reporter reporter = new Reporter(step.name(), i + 1, steps.size(), done / total, weight(step) / total);
            log.line("=== " + step.name());
            long start = System.nanoTime();
            reporter.emit(0, "", true);
            try {
                step.run(reporter);
            } catch (KernelBuildException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                flushQuietly();
                throw new KernelBuildException(step.name(), String.valueOf(e.getMessage()), log.tail(), log.file(), e);
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

    private static double weight(BuildStep step) {
        return Math.max(1, step.typicalDuration().toMillis());
    }

    static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private void flushQuietly() {
        try {
            log.flush();
        } catch (IOException ignored) {
            // the failure being reported matters more than the log's last buffered lines
        }
    }

    /** Turns one step's own fraction into overall progress, throttled and never going backwards. */
    private final class Reporter implements StepProgress {
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
            listener.onProgress(new KernelBuildProgress(step, number, count, fraction,
                    Math.min(1, base + share * fraction), message));
        }
    }
}
