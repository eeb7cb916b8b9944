package dev.kiln.core.message;

import java.util.Objects;

/**
 * One problem in a message: where ({@code content.volumes[1].mount}) and what to fix
 * ({@code must be an absolute path, got 'data'}).
 */
public record ValidationError(String path, String reason) {
    public ValidationError {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
        return path + ": " + reason;
    }
}
