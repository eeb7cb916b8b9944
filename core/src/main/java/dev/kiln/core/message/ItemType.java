package dev.kiln.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Where a message's content (envelope) or a stored file (STORE content) lives. */
public enum ItemType {
    INLINE("inline"),
    STORAGE("storage"),
    IPFS("ipfs");

    /** The spellings accepted on the wire, in declaration order (used in error messages). */
    public static final List<String> WIRE_NAMES = Arrays.stream(values()).map(ItemType::wire).toList();

    private final String wire;

    ItemType(String wire) {
        this.wire = wire;
    }

    /** The value as written in aleph JSON. */
    public String wire() {
        return wire;
    }

    /** The constant spelled {@code text} on the wire (case-sensitive, as aleph is), if any. */
    public static Optional<ItemType> fromWire(String text) {
        return Arrays.stream(values()).filter(v -> v.wire.equals(text)).findFirst();
    }
}
