package dev.kiln.network;

/** A host networking command failed; the message carries the command and what it printed. */
public final class NetworkCommandException extends RuntimeException {

    private final transient CommandResult result;

    public NetworkCommandException(CommandResult result) {
        super("'" + String.join(" ", result.command()) + "' exited with " + result.exitCode()
                + (result.stderr().isBlank() ? "" : ": " + result.stderr().strip())
                + (result.stderr().contains("Operation not permitted")
                        ? " (the node needs root or CAP_NET_ADMIN in its network namespace)" : ""));
        this.result = result;
    }

    public NetworkCommandException(String message, Throwable cause) {
        super(message, cause);
        this.result = null;
    }

    public CommandResult result() {
        return result;
    }
}
