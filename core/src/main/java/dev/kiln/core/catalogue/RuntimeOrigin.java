package dev.kiln.core.catalogue;

/** Where the catalogue learnt about a runtime. */
public enum RuntimeOrigin {
    /** Listed in the official catalogue shipped with Kiln. */
    OFFICIAL,
    /** Built or published on this machine. */
    LOCAL,
    /** Known only by item hash, resolved through the store and remote sources. */
    THIRD_PARTY;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
