package dev.kiln.core.hash;

/** A string that is neither a SHA-256 item hash nor a well-formed IPFS CID. */
public final class InvalidItemHashException extends IllegalArgumentException {
    public InvalidItemHashException(String value, String reason) {
        super("invalid item hash '" + abbreviate(value) + "': " + reason);
    }

    private static String abbreviate(String value) {
        if (value == null) return "null";
        return value.length() <= 80 ? value : value.substring(0, 77) + "...";
    }
}
