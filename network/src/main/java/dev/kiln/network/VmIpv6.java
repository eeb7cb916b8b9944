package dev.kiln.network;

import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A VM's stable IPv6 subnet, derived the way aleph-vm's static allocator does it so that a VM
 * keeps its address across restarts and nodes with the same prefix agree:
 * {@code <first 64 bits of the node prefix>:<kind>:<first 44 bits of the item hash>0/124}.
 * The host side of the TAP takes {@code …1}, the guest {@code …2}.
 *
 * @param subnetHigh the subnet's upper 64 bits
 * @param subnetLow  the subnet's lower 64 bits (last nibble zero)
 */
public record VmIpv6(long subnetHigh, long subnetLow) {

    public static final int SUBNET_PREFIX = 124;
    private static final Pattern HASH = Pattern.compile("[0-9a-fA-F]{11,}");

    public static VmIpv6 derive(Ipv6Prefix prefix, String itemHash, VmKind kind) {
        if (!HASH.matcher(itemHash).matches()) {
            throw new IllegalArgumentException("a VM's IPv6 address is derived from its item hash (hex), not '" + itemHash + "'");
        }
        long hashBits = Long.parseUnsignedLong(itemHash.substring(0, 11), 16);
        long low = ((long) kind.ipv6Group() << 48) | (hashBits << 4);
        return new VmIpv6(prefix.high(), low);
    }

    public String subnet() {
        return format(subnetHigh, subnetLow) + "/" + SUBNET_PREFIX;
    }

    public String gateway() {
        return format(subnetHigh, subnetLow | 1);
    }

    public String guest() {
        return format(subnetHigh, subnetLow | 2);
    }

    /** The full eight groups, lower case: stable text for nft elements and comparisons. */
    static String format(long high, long low) {
        HexFormat hex = HexFormat.of();
        StringBuilder b = new StringBuilder(39);
        for (int i = 3; i >= 0; i--) {
            b.append(hex.toHexDigits((short) (high >>> (16 * i)))).append(':');
        }
        for (int i = 3; i >= 0; i--) {
            b.append(hex.toHexDigits((short) (low >>> (16 * i))));
            if (i > 0) {
                b.append(':');
            }
        }
        return b.toString();
    }
}
