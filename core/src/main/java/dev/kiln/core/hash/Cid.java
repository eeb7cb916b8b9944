package dev.kiln.core.hash;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;

/** Structural validation of IPFS CIDs: multibase, version, codec and sha2-256 multihash. */
final class Cid {
    private static final String BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
    private static final int SHA2_256 = 0x12;

    private Cid() {}

    /** CIDv0: base58btc of a 34-byte sha2-256 multihash, hence always 46 characters from "Qm". */
    static void checkV0(String s) {
        if (s.length() != 46) {
            throw new InvalidItemHashException(s, "a CIDv0 has 46 characters, this has " + s.length());
        }
        byte[] bytes = decodeBase58(s);
        if (bytes.length != 34 || (bytes[0] & 0xff) != SHA2_256 || bytes[1] != 32) {
            throw new InvalidItemHashException(s, "CIDv0 does not hold a sha2-256 multihash");
        }
    }

    /** CIDv1 in multibase base32 ('b' prefix): version 1, a codec, then a multihash. */
    static void checkV1Base32(String s) {
        byte[] bytes = decodeBase32(s, s.substring(1));
        int[] pos = {0};
        long version = varint(s, bytes, pos);
        if (version != 1) throw new InvalidItemHashException(s, "CID version " + version + ", expected 1");
        varint(s, bytes, pos); // content codec (dag-pb, raw, ...): any is acceptable
        long hashCode = varint(s, bytes, pos);
        long length = varint(s, bytes, pos);
        if (length <= 0 || pos[0] + length != bytes.length) {
            throw new InvalidItemHashException(s, "CID multihash length does not match its digest");
        }
        if (hashCode == SHA2_256 && length != 32) {
            throw new InvalidItemHashException(s, "sha2-256 digest must be 32 bytes");
        }
    }

    private static long varint(String s, byte[] b, int[] pos) {
        long result = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            if (pos[0] >= b.length) throw new InvalidItemHashException(s, "truncated CID");
            int x = b[pos[0]++] & 0xff;
            result |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) return result;
        }
        throw new InvalidItemHashException(s, "malformed varint in CID");
    }

    private static byte[] decodeBase58(String s) {
        BigInteger n = BigInteger.ZERO;
        BigInteger radix = BigInteger.valueOf(58);
        for (char c : s.toCharArray()) {
            int d = BASE58.indexOf(c);
            if (d < 0) throw new InvalidItemHashException(s, "'" + c + "' is not a base58 character");
            n = n.multiply(radix).add(BigInteger.valueOf(d));
        }
        byte[] raw = n.toByteArray();
        int leadingZeros = 0;
        while (leadingZeros < s.length() && s.charAt(leadingZeros) == '1') leadingZeros++;
        int strip = raw.length > 1 && raw[0] == 0 ? 1 : 0;
        byte[] out = new byte[leadingZeros + raw.length - strip];
        System.arraycopy(raw, strip, out, leadingZeros, raw.length - strip);
        return out;
    }

    private static byte[] decodeBase32(String whole, String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int buffer = 0, bits = 0;
        for (char c : s.toCharArray()) {
            int d = BASE32.indexOf(c);
            if (d < 0) throw new InvalidItemHashException(whole, "'" + c + "' is not a base32 (lower-case) character");
            buffer = (buffer << 5) | d;
            bits += 5;
            if (bits >= 8) {
                out.write((buffer >> (bits - 8)) & 0xff);
                bits -= 8;
            }
        }
        return out.toByteArray();
    }
}
