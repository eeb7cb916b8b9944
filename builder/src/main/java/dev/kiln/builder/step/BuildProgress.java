package dev.kiln.builder.step;

/**
 * Where a build stands.
 *
 * @param step            the running step's name, e.g. {@code CompileKernel} or {@code InstallPackages}
 * @param stepNumber      1-based position of the step
 * @param stepCount       number of steps in this build (known before the first one starts)
 * @param stepFraction    how much of this step is done, 0 to 1
 * @param overallFraction how much of the whole build is done, 0 to 1, weighting each step by its
 *                        usual duration (so the kernel's compile step is most of the bar)
 * @param message         a short human-readable detail, e.g. the file being compiled
 */
public record BuildProgress(String step, int stepNumber, int stepCount,
                            double stepFraction, double overallFraction, String message) {
}
