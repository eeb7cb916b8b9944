package dev.kiln.network;

/** A CIDR block ("172.16.0.0/16"); the base address is normalised to the block's first address. */
public record Ipv4Range(Ipv4Address base, int prefixLength) {

    public Ipv4Range {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("an IPv4 prefix length is 0..32, not " + prefixLength);
        }
        base = new Ipv4Address(base.bits() & mask(prefixLength));
    }

    public static Ipv4Range parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 range (expected a.b.c.d/len)");
        }
        int length;
        try {
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 range (expected a.b.c.d/len)");
        }
        return new Ipv4Range(Ipv4Address.parse(text.substring(0, slash)), length);
    }

    public long size() {
        return 1L << (32 - prefixLength);
    }

    public boolean contains(Ipv4Address address) {
        return (address.bits() & mask(prefixLength)) == base.bits();
    }

    public boolean overlaps(Ipv4Range other) {
        int shorter = Math.min(prefixLength, other.prefixLength);
        return (base.bits() & mask(shorter)) == (other.base.bits() & mask(shorter));
    }

    private static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    @Override
    public String toString() {
        return base + "/" + prefixLength;
    }
}
