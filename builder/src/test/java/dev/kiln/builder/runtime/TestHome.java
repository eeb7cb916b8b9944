package dev.kiln.builder.runtime;

import dev.kiln.builder.testing.TestBuilds;

import java.nio.file.Path;

/** The builder tests' short names for the suite's shared test home (see {@link TestBuilds}). */
final class TestHome {

    private TestHome() {
    }

    static Path get() {
        return TestBuilds.kilnHome();
    }

    static RuntimeBuildListener printing(String label) {
        return TestBuilds.printing(label);
    }
}
