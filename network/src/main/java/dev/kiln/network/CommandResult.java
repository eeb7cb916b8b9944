package dev.kiln.network;

import java.util.List;

/** What one ip/nft/sysctl invocation did. */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {

    public boolean ok() {
        return exitCode == 0;
    }

    public CommandResult orThrow() {
        if (!ok()) {
            throw new NetworkCommandException(this);
        }
        return this;
    }
}
