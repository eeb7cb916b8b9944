package dev.kiln.builder.kernel;

import dev.kiln.builder.step.StepFailedException;
import java.nio.file.Path;
import java.util.List;

/** A kernel build failed in a named step; see {@link StepFailedException}. */
public final class KernelBuildException extends StepFailedException {

    public KernelBuildException(String step, String message, List<String> logTail, Path log, Throwable cause) {
        super(step, message, logTail, log, cause);
    }

    public KernelBuildException(String step, String message) {
        this(step, message, List.of(), null, null);
    }

    @Override
    protected String what() {
        return "kernel";
    }
}
