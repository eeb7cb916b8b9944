package dev.kiln.guest;

/** The agent's answer to HALT: whether the program's shutdown ran ("complete", "failed", "timeout", "none"). */
public record HaltResult(boolean ok, String shutdown, String message, int cancelledStreams) {
}
