package dev.kiln.core.hash;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The identity of an aleph item: either the SHA-256 of its bytes (64 lowercase hex digits, what
 * Kiln's own store uses) or an IPFS content identifier (CIDv0 {@code Qm…}, CIDv1 base32
 * {@code b…}). Instances are always valid; {@link #parse} is the only way in from text.
 */
public record ItemHash(String value, Kind kind) implements Comparable<ItemHash> {

    public enum Kind { SHA256, CID_V0, CID_V1 }

    private static final HexFormat HEX = HexFormat.of();

    public ItemHash {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(kind, "kind");
    }

    /** Parses and validates an item hash; upper-case hex is accepted and normalised. */
    public static ItemHash parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidItemHashException(text, "empty");
        }
        String s = text.strip();
        if (s.length() == 64 && isHex(s)) {
            return new ItemHash(s.toLowerCase(java.util.Locale.ROOT), Kind.SHA256);
        }
        if (s.startsWith("Qm")) {
            Cid.checkV0(s);
            return new ItemHash(s, Kind.CID_V0);
        }
        if (s.startsWith("b") && s.length() > 8) {
            Cid.checkV1Base32(s);
            return new ItemHash(s, Kind.CID_V1);
        }
        if (isHex(s)) {
            throw new InvalidItemHashException(s, "a SHA-256 item hash has 64 hex digits, this has " + s.length());
        }
        throw new InvalidItemHashException(s,
                "expected 64 hex digits (SHA-256) or an IPFS CID (Qm… or bafy…)");
    }

    /** True if {@code text} parses as an item hash. */
    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (InvalidItemHashException e) {
            return false;
        }
    }

    public static ItemHash ofSha256(byte[] digest) {
        if (digest.length != 32) throw new IllegalArgumentException("SHA-256 digest must be 32 bytes");
        return new ItemHash(HEX.formatHex(digest), Kind.SHA256);
    }

    public static ItemHash sha256Of(byte[] bytes) {
        return ofSha256(newDigest().digest(bytes));
    }

    public static ItemHash sha256Of(InputStream in) throws IOException {
        MessageDigest md = newDigest();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        return ofSha256(md.digest());
    }

    public static ItemHash sha256Of(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256Of(in);
        }
    }

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK without SHA-256", e);
        }
    }

    public boolean isSha256() {
        return kind == Kind.SHA256;
    }

    /** Short form for tables and logs: the first 12 characters. */
    public String shortForm() {
        return value.substring(0, Math.min(12, value.length()));
    }

    @Override
    public int compareTo(ItemHash o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.digit(s.charAt(i), 16) < 0) return false;
        }
        return true;
    }
}
