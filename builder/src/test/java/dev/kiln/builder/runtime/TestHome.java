package dev.kiln.builder.runtime;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The Kiln home the builder tests share with the rest of the suite: {@code ~/.cache/kiln-test}
 * (override with {@code -Dkiln.test.home=<dir>}). Kernels, bases, downloaded packages and built
 * images stay there between runs, so a machine pays for each of them once.
 */
final class TestHome {

    private TestHome() {
    }

    static Path get() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    /** Prints a line per step to the test output: first builds take a minute or more. */
    static RuntimeBuildListener printing(String label) {
        return new RuntimeBuildListener() {
            private String lastStep = "";

            @Override
            public void onProgress(RuntimeBuildProgress p) {
                if (p.step().equals(lastStep)) return;
                lastStep = p.step();
                System.err.printf("[%s] %3d %% %s (%d/%d) %s%n", label, Math.round(p.overallFraction() * 100), p.step(),
                        p.stepNumber(), p.stepCount(), p.message());
            }

            @Override
            public void onStepFinished(String step, Duration took) {
                System.err.printf("[%s] %s took %s%n", label, step, RuntimeStepRunner.seconds(took));
            }
        };
    }
}
