package dev.kiln.guest;

import java.util.List;

/**
 * A successful configuration. {@code skipped} lists steps the agent could not perform here (e.g.
 * mounts outside system mode), with the reason; {@code lifespan} is the ASGI lifespan support
 * ("supported" / "unsupported"), null for executables.
 */
public record Configured(String interfaceName, String lifespan, Integer port, List<Skipped> skipped, double seconds) {
    public record Skipped(String step, String reason) {
    }
}
