package dev.kiln.node.control;

/** The two kinds of long-running machine an operator allocates (aleph's allocation body names them). */
public enum MachineKind {
    /** A PROGRAM message with {@code on.persistent: true}: aleph's {@code persistent_vms}. */
    PERSISTENT_PROGRAM("persistent_vms"),
    /** An INSTANCE message: aleph's {@code instances}. */
    INSTANCE("instances");

    private final String allocationField;

    MachineKind(String allocationField) {
        this.allocationField = allocationField;
    }

    /** The field of {@code POST /control/allocations} that lists machines of this kind. */
    public String allocationField() {
        return allocationField;
    }
}
