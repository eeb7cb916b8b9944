package dev.kiln.builder.step;

import java.time.Duration;

/** How long one build step took. */
public record StepTiming(String step, Duration took) {
}
