package dev.kiln.node.pool;

import java.util.Objects;

/**
 * How one execution ended: the typed reason, and free text for people ({@code idle for 30 s},
 * {@code the VMM exited with status 137}); null detail means the reason's own words.
 */
public record Ending(EndReason reason, String detail) {
    public Ending {
        Objects.requireNonNull(reason, "reason");
    }

    /** What the record's {@code reason} column and the log say. */
    public String text() {
        return detail != null ? detail : reason.text();
    }
}
