package dev.kiln.builder.runtime;

import dev.kiln.builder.step.StepFailedException;
import java.nio.file.Path;
import java.util.List;

/** A runtime build failed in a named step; see {@link StepFailedException}. */
public final class RuntimeBuildException extends StepFailedException {

    public RuntimeBuildException(String step, String message, List<String> logTail, Path log, Throwable cause) {
        super(step, message, logTail, log, cause);
    }

    public RuntimeBuildException(String step, String message) {
        this(step, message, List.of(), null, null);
    }

    @Override
    protected String what() {
        return "runtime";
    }
}
