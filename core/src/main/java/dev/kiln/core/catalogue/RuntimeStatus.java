package dev.kiln.core.catalogue;

/** Support status of a runtime. At most one runtime per kind is the default. */
public enum RuntimeStatus {
    DEFAULT, SUPPORTED, DEPRECATED;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static RuntimeStatus fromId(String id) {
        for (RuntimeStatus s : values()) {
            if (s.id().equals(id)) return s;
        }
        throw new IllegalArgumentException("unknown status '" + id + "'; expected default, supported or deprecated");
    }
}
