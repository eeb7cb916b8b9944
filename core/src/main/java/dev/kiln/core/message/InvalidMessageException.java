package dev.kiln.core.message;

import java.util.List;
import java.util.stream.Collectors;

/** A message was refused; carries every problem found, one per line in the message text. */
public final class InvalidMessageException extends RuntimeException {
    private final List<ValidationError> errors;

    public InvalidMessageException(String what, List<ValidationError> errors) {
        super(what + " refused:\n" + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    public List<ValidationError> errors() {
        return errors;
    }
}
