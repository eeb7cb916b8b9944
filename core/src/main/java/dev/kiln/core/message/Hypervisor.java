package dev.kiln.core.message;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The VMM an instance asks for. Kiln drives QEMU; firecracker is accepted for compatibility. */
public enum Hypervisor {
    FIRECRACKER("firecracker"),
    QEMU("qemu");

    /** The spellings accepted on the wire, in declaration order (used in error messages). */
    public static final List<String> WIRE_NAMES = Arrays.stream(values()).map(Hypervisor::wire).toList();

    private final String wire;

    Hypervisor(String wire) {
        this.wire = wire;
    }

    /** The value as written in aleph JSON. */
    public String wire() {
        return wire;
    }

    /** The constant spelled {@code text} on the wire (case-sensitive, as aleph is), if any. */
    public static Optional<Hypervisor> fromWire(String text) {
        return Arrays.stream(values()).filter(v -> v.wire.equals(text)).findFirst();
    }
}
