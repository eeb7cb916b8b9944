package dev.kiln.builder.step;

/** What a running step tells the runner about itself. */
@FunctionalInterface
public interface StepProgress {

    /** {@code fraction} of this step is done (0 to 1); values going backwards are ignored. */
    void report(double fraction, String message);
}
