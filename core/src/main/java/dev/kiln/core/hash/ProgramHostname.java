package dev.kiln.core.hash;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * Hostname routing as aleph does it: a program is reachable at
 * {@code <label>.<any domain>} where the first DNS label is the RFC 4648 base32 of the item
 * hash's 32 bytes, lower case, without padding (52 characters, within DNS's 63-character limit;
 * the 64 hex digits are not).
 */
public final class ProgramHostname {
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
    private static final int LABEL_LENGTH = 52;

    private ProgramHostname() {
    }

    /** The first DNS label naming this program (SHA-256 item hashes only). */
    public static String label(ItemHash program) {
        if (!program.isSha256()) throw new IllegalArgumentException("only SHA-256 item hashes have a hostname label");
        byte[] bytes = HexFormat.of().parseHex(program.value());
        StringBuilder out = new StringBuilder(LABEL_LENGTH);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(ALPHABET.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) out.append(ALPHABET.charAt((buffer << (5 - bits)) & 31));
        return out.toString();
    }

    /**
     * The program named by the first label of a Host header value ({@code name.example.org:4020}),
     * if that label is the base32 of a 32-byte hash; empty for ordinary hostnames and addresses.
     */
    public static Optional<ItemHash> programOf(String hostHeader) {
        if (hostHeader == null) return Optional.empty();
        String host = hostHeader.strip();
        if (host.startsWith("[")) return Optional.empty(); // an IPv6 literal
        int colon = host.indexOf(':');
        if (colon >= 0) host = host.substring(0, colon);
        int dot = host.indexOf('.');
        String label = (dot < 0 ? host : host.substring(0, dot)).toLowerCase(Locale.ROOT);
        if (label.length() != LABEL_LENGTH) return Optional.empty();
        byte[] out = new byte[32];
        int buffer = 0;
        int bits = 0;
        int n = 0;
        for (int i = 0; i < label.length(); i++) {
            int v = ALPHABET.indexOf(label.charAt(i));
            if (v < 0) return Optional.empty();
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                if (n == out.length) return Optional.empty();
                out[n++] = (byte) (buffer >> (bits - 8));
                bits -= 8;
            }
            buffer &= (1 << bits) - 1;
        }
        // 52 × 5 = 260 bits: 32 bytes and 4 padding bits, which must be zero in a canonical label.
        if (n != out.length || buffer != 0) return Optional.empty();
        return Optional.of(ItemHash.ofSha256(out));
    }
}
