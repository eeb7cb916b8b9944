package dev.kiln.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** How the guest starts program code: an ASGI app in-process, or an executable serving HTTP. */
public enum CodeInterface {
    ASGI("asgi"),
    BINARY("binary");

    /** The spellings accepted on the wire, in declaration order (used in error messages). */
    public static final List<String> WIRE_NAMES = Arrays.stream(values()).map(CodeInterface::wire).toList();

    private final String wire;

    CodeInterface(String wire) {
        this.wire = wire;
    }

    /** The value as written in aleph JSON. */
    public String wire() {
        return wire;
    }

    /** The constant spelled {@code text} on the wire (case-sensitive, as aleph is), if any. */
    public static Optional<CodeInterface> fromWire(String text) {
        return Arrays.stream(values()).filter(v -> v.wire.equals(text)).findFirst();
    }
}
