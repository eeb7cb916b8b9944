package dev.kiln.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Where a persistent volume or an instance's root filesystem is kept: on the node (host) or in the network's store. */
public enum Persistence {
    HOST("host"),
    STORE("store");

    /** The spellings accepted on the wire, in declaration order (used in error messages). */
    public static final List<String> WIRE_NAMES = Arrays.stream(values()).map(Persistence::wire).toList();

    private final String wire;

    Persistence(String wire) {
        this.wire = wire;
    }

    /** The value as written in aleph JSON. */
    public String wire() {
        return wire;
    }

    /** The constant spelled {@code text} on the wire (case-sensitive, as aleph is), if any. */
    public static Optional<Persistence> fromWire(String text) {
        return Arrays.stream(values()).filter(v -> v.wire.equals(text)).findFirst();
    }
}
