package dev.kiln.builder.step;

import java.nio.file.Path;
import java.util.List;

/**
 * A build (of a kernel, of a runtime) failed in a named step. The message says what to do next;
 * {@link #logTail()} holds the last lines of the build log, which are usually the failing tool's
 * own words. Each build has its own subclass, so callers can tell which operation failed.
 */
public abstract class StepFailedException extends Exception {

    private final String step;
    private final List<String> logTail;
    private final Path log;

    protected StepFailedException(String step, String message, List<String> logTail, Path log, Throwable cause) {
        super(message, cause);
        this.step = step;
        this.logTail = List.copyOf(logTail);
        this.log = log;
    }

    /** The step that failed, e.g. {@code ConfigureKernel} or {@code InstallPackages}. */
    public String step() {
        return step;
    }

    public List<String> logTail() {
        return logTail;
    }

    /** The full build log, or null if the build failed before it had one. */
    public Path log() {
        return log;
    }

    /** What was being built, for {@link #report()}: "kernel", "runtime". */
    protected abstract String what();

    /** The message followed by the log's tail and where the whole log is: what a CLI prints. */
    public String report() {
        StringBuilder text = new StringBuilder(what()).append(" build failed in step ").append(step).append(": ")
                .append(getMessage());
        if (!logTail.isEmpty()) {
            text.append("\n--- last ").append(logTail.size()).append(" lines of the build log ---\n");
            logTail.forEach(line -> text.append(line).append('\n'));
        }
        if (log != null) text.append("full log: ").append(log);
        return text.toString();
    }
}
