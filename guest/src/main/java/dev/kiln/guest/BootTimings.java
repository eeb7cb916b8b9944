package dev.kiln.guest;

/** Seconds since kernel start at each boot milestone; null where unknown (e.g. no init0 in tests). */
public record BootTimings(Double init0Start, Double init0Exec, Double init1Start, Double init1Ready) {
}
