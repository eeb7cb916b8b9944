package dev.kiln.cli.setup;

/** Preparing the node failed in a named step; the message says what to do next. */
public final class SetupException extends Exception {
    private final String step;

    public SetupException(String step, String message, Throwable cause) {
        super(message, cause);
        this.step = step;
    }

    public String step() {
        return step;
    }
}
