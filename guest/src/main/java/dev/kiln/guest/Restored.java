package dev.kiln.guest;

import java.util.List;

/**
 * The agent's answer to a {@link RestoreNotice}: the copy refreshed itself. {@code clockOffset} is
 * the correction it applied to its wall clock (host time minus guest time, seconds); {@code skipped}
 * lists the steps it could not do here (outside system mode).
 */
public record Restored(long generation, double clockOffset, List<Configured.Skipped> skipped) {
}
