package dev.kiln.guest;

import java.util.List;

/**
 * An OUTPUT frame: lines the configured program wrote to its stdout or stderr, apart from the
 * console (docs/guest-protocol.md). {@code dropped} counts lines of that stream the agent threw
 * away since its previous frame, because the program printed faster than the channel's budget.
 */
public record GuestOutput(Stream stream, List<String> lines, long dropped) {
    public enum Stream { STDOUT, STDERR }

    public GuestOutput {
        lines = List.copyOf(lines);
    }
}
