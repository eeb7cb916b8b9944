package dev.kiln.builder.step;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs a build's named steps in order, for the kernel and the runtime builds alike. It is given
 * all steps before the first one starts, so the overall fraction is measured against the
 * whole build (each step weighted by its usual duration) rather than guessed as it goes; progress
 * is throttled (make and apt print thousands of lines) and never goes backwards. A failure becomes
 * the build's own {@link StepFailedException} ({@code E}), naming the step and carrying the log's
 * tail.
 */
public final class StepRunner<E extends StepFailedException> {

    /** A progress bar redraws a few times per second at most. */
    private static final long MIN_NANOS_BETWEEN_EVENTS = 100_000_000L;

    /** Makes the build's own failure from a step's unexpected exception. */
    @FunctionalInterface
    public interface Failure<F extends StepFailedException> {
        F of(String step, String message, List<String> logTail, Path log, Throwable cause);
    }

    private final BuildListener listener;
    private final BuildLog log;
    private final Class<E> ownFailure;
    private final Failure<E> failure;
    private final List<StepTiming> timings = new ArrayList<>();

    /**
     * @param ownFailure the build's failure type: thrown by a step, it passes through as it is
     * @param failure    wraps anything else a step throws (IOException, a bug)
     */
    public StepRunner(BuildListener listener, BuildLog log, Class<E> ownFailure, Failure<E> failure) {
        this.listener = listener;
        this.log = log;
        this.ownFailure = ownFailure;
        this.failure = failure;
    }

    /** The steps finished so far, in order. */
    public List<StepTiming> timings() {
        return List.copyOf(timings);
    }

    /** Runs {@code steps} in order and returns how long each took. */
    public List<StepTiming> run(List<? extends BuildStep> steps) throws E, InterruptedException {
        double total = steps.stream().mapToDouble(StepRunner::weight).sum();
        double done = 0;
        for (int i = 0; i < steps.size(); i++) {
            BuildStep step = steps.get(i);
            Reporter reporter = new Reporter(new Position(step.name(), i + 1, steps.size(), done / total, weight(step) / total));
            log.line("=== " + step.name());
            long start = System.nanoTime();
            reporter.emit(0, "", true);
            try {
                step.run(reporter);
            } catch (StepFailedException e) {
                flushQuietly();
                if (ownFailure.isInstance(e)) throw ownFailure.cast(e);
                throw failure.of(step.name(), String.valueOf(e.getMessage()), log.tail(), log.file(), e);
            } catch (IOException | RuntimeException e) {
                log.line("failed: " + e.getMessage());
                flushQuietly();
                throw failure.of(step.name(), String.valueOf(e.getMessage()), log.tail(), log.file(), e);
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

    /** A duration as the build's summaries print it: {@code 12.3 s}. */
    public static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private static double weight(BuildStep step) {
        return Math.max(1, step.typicalDuration().toMillis());
    }

    private void flushQuietly() {
        try {
            log.flush();
        } catch (IOException ignored) {
            // the failure being reported matters more than the log's last buffered lines
        }
    }

    /**
     * Where one step stands in the build: its name, its 1-based number of {@code count}, and its
     * part of the overall bar, from {@code base} to {@code base + share}.
     */
    private record Position(String step, int number, int count, double base, double share) {
    }

    /** Turns one step's own fraction into overall progress, throttled and never going backwards. */
    private final class Reporter implements StepProgress {
        private final Position at;
        private double fraction;
        private long lastEventNanos;

        Reporter(Position at) {
            this.at = at;
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
            double overall = Math.min(1, at.base() + at.share() * fraction);
            listener.onProgress(new BuildProgress(at.step(), at.number(), at.count(), fraction, overall, message));
        }
    }
}
