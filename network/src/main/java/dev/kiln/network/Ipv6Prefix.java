package dev.kiln.network;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * The IPv6 prefix routed to the node. Only its first 64 bits count: the static scheme fills the
 * lower 64 itself, so the operator gives a /64 (or shorter: the rest of the first 64 bits is then
 * whatever the address says, normally zero).
 */
public record Ipv6Prefix(long high, int length) {

    public Ipv6Prefix {
        if (length < 1 || length > 64) {
            throw new IllegalArgumentException("the node's IPv6 prefix must be a /64 or shorter, not /" + length
                    + " (each VM takes a /124 below its first 64 bits)");
        }
    }

    public static Ipv6Prefix parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 prefix (expected e.g. 2001:db8:1:2::/64)");
        }
        InetAddress address;
        int length;
        try {
            address = InetAddress.ofLiteral(text.substring(0, slash));
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 prefix (expected e.g. 2001:db8:1:2::/64)");
        }
        if (!(address instanceof Inet6Address)) {
            throw new IllegalArgumentException("'" + text + "' is IPv4; the IPv6 prefix needs an IPv6 address");
        }
        long high = ByteBuffer.wrap(address.getAddress()).getLong();
        long mask = -1L << (64 - length);
        return new Ipv6Prefix(high & mask, length);
    }

    @Override
    public String toString() {
        return VmIpv6.format(high, 0) + "/" + length;
    }
}
