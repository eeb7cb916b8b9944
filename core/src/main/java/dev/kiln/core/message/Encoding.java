package dev.kiln.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** How program code or data is packed: one plain file, a zip archive, or a squashfs image mounted as is. */
public enum Encoding {
    PLAIN("plain"),
    ZIP("zip"),
    SQUASHFS("squashfs");

    /** The spellings accepted on the wire, in declaration order (used in error messages). */
    public static final List<String> WIRE_NAMES = Arrays.stream(values()).map(Encoding::wire).toList();

    private final String wire;

    Encoding(String wire) {
        this.wire = wire;
    }

    /** The value as written in aleph JSON. */
    public String wire() {
        return wire;
    }

    /** The constant spelled {@code text} on the wire (case-sensitive, as aleph is), if any. */
    public static Optional<Encoding> fromWire(String text) {
        return Arrays.stream(values()).filter(v -> v.wire.equals(text)).findFirst();
    }
}
