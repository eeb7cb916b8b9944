package dev.kiln.guest;

import java.util.List;

/**
 * The agent's answer to HALT: whether the program's shutdown ran ("complete", "failed", "timeout",
 * "none"), and in system mode the writable volumes it could not detach (empty when all were
 * unmounted or remounted read-only, or when it mounted none).
 */
public record HaltResult(boolean ok, String shutdown, String message, int cancelledStreams,
                         List<String> volumesLeftMounted) {
    public HaltResult {
        volumesLeftMounted = volumesLeftMounted == null ? List.of() : List.copyOf(volumesLeftMounted);
    }

    public HaltResult(boolean ok, String shutdown, String message, int cancelledStreams) {
        this(ok, shutdown, message, cancelledStreams, List.of());
    }
}
