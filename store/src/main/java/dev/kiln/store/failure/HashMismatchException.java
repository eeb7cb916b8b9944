package dev.kiln.store.failure;

import dev.kiln.core.hash.ItemHash;

/** Incoming bytes (a put with a known hash, or a download) did not match the expected item hash. */
public final class HashMismatchException extends StoreException {
    private final ItemHash expected;
    private final ItemHash actual;
    private final String source;

    /**
     * @param source where the bytes came from ("a stream", a URL)
     * @param hint   what the user should do next
     */
    public HashMismatchException(ItemHash expected, ItemHash actual, long size, String source, String hint) {
        super("bytes from " + source + " do not match item hash " + expected + ": they hash to " + actual
                + " (" + size + " bytes); nothing was stored. " + hint);
        this.expected = expected;
        this.actual = actual;
        this.source = source;
    }

    public ItemHash expected() {
        return expected;
    }

    public ItemHash actual() {
        return actual;
    }

    public String source() {
        return source;
    }
}
