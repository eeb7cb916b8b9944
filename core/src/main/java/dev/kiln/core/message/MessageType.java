package dev.kiln.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The message types Kiln acts on; aleph's others (POST, AGGREGATE, FORGET) are recognised but refused by the validator. */
public enum MessageType {
    PROGRAM("PROGRAM"),
    INSTANCE("INSTANCE"),
    STORE("STORE");

    /** The spellings accepted on the wire, in declaration order (used in error messages). */
    public static final List<String> WIRE_NAMES = Arrays.stream(values()).map(MessageType::wire).toList();

    private final String wire;

    MessageType(String wire) {
        this.wire = wire;
    }

    /** The value as written in aleph JSON. */
    public String wire() {
        return wire;
    }

    /** The constant spelled {@code text} on the wire (case-sensitive, as aleph is), if any. */
    public static Optional<MessageType> fromWire(String text) {
        return Arrays.stream(values()).filter(v -> v.wire.equals(text)).findFirst();
    }
}
