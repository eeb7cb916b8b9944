package dev.kiln.builder.runtime;

import dev.kiln.core.message.ValidationError;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A runtime spec was refused. Carries every problem found, each with the field's path
 * ({@code packages.apt[2]}) and what to fix; the message lists them one per line.
 */
public final class RuntimeSpecException extends IllegalArgumentException {

    private final List<ValidationError> errors;

    public RuntimeSpecException(String source, List<ValidationError> errors) {
        super(source + " is not a valid runtime spec:\n"
                + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    /** A problem with the file itself (unreadable, not YAML): one error at the root. */
    public RuntimeSpecException(String source, String problem) {
        super(source + ": " + problem);
        this.errors = List.of(new ValidationError("", problem));
    }

    public List<ValidationError> errors() {
        return errors;
    }
}
