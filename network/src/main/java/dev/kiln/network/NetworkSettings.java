package dev.kiln.network;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How the node networks its VMs.
 *
 * @param range               the IPv4 block the node owns and cuts into VM subnets
 * @param subnetPrefix        each VM's subnet length (30: gateway and guest, nothing else)
 * @param ipv6                the IPv6 prefix routed to the node, or null for IPv4 only
 * @param dns                 resolvers given to guests; empty = the host's ({@link DnsResolvers})
 * @param blockedDestinations IPv4 ranges no guest may reach besides the built-in ones
 *                            (link-local, the node's own range); e.g. the operator's LAN
 * @param firstHostPort       first host port handed out for forwarded guest ports
 * @param lastHostPort        last one (inclusive)
 * @param table               the node's nftables table (family inet); nobody else's is touched
 * @param interfacePrefix     the TAP name prefix; devices with it (and the node's alias) are the node's
 * @param forwardingInHostNamespace whether the node may turn on IP forwarding when it runs in the
 *                            host's initial namespace (off: it then refuses and says how to do it)
 */
public record NetworkSettings(Ipv4Range range, int subnetPrefix, Ipv6Prefix ipv6, List<Ipv4Address> dns,
                              List<Ipv4Range> blockedDestinations, int firstHostPort, int lastHostPort,
                              String table, String interfacePrefix, boolean forwardingInHostNamespace) {

    /**
     * 172.16.0.0/16: private (RFC 1918), the low end of 172.16/12 that Docker's default pools
     * (172.17.0.0/16 and up) leave alone, and less often a home or office LAN than 10/8 or
     * 192.168/16. /30 subnets give 16384 VMs.
     */
    public static final Ipv4Range DEFAULT_RANGE = Ipv4Range.parse("172.16.0.0/16");
    /** Below Linux's default ephemeral range (32768–60999), so outgoing connections never collide. */
    public static final int DEFAULT_FIRST_PORT = 24000;
    public static final int DEFAULT_LAST_PORT = 24999;
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,31}");
    private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,6}-");

    public NetworkSettings {
        Objects.requireNonNull(range, "range");
        dns = List.copyOf(dns);
        blockedDestinations = List.copyOf(blockedDestinations);
        if (firstHostPort < 1024 || lastHostPort > 65535 || firstHostPort > lastHostPort) {
            throw new IllegalArgumentException("the forwarded host ports must be a range within 1024..65535, not "
                    + firstHostPort + ".." + lastHostPort);
        }
        if (!NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("'" + table + "' is not a usable nftables table name");
        }
        if (!PREFIX.matcher(interfacePrefix).matches()) {
            throw new IllegalArgumentException("the interface prefix must be 1-7 lower-case letters or digits and '-', not '"
                    + interfacePrefix + "' (a Linux interface name has at most 15 characters)");
        }
        new SubnetPool(range, subnetPrefix);
    }

    public static NetworkSettings defaults() {
        return new NetworkSettings(DEFAULT_RANGE, 30, null, List.of(), List.of(),
                DEFAULT_FIRST_PORT, DEFAULT_LAST_PORT, "kiln", "kiln-", false);
    }

    public NetworkSettings withRange(Ipv4Range value) {
        return new NetworkSettings(value, subnetPrefix, ipv6, dns, blockedDestinations, firstHostPort, lastHostPort,
                table, interfacePrefix, forwardingInHostNamespace);
    }

    public NetworkSettings withIpv6(Ipv6Prefix value) {
        return new NetworkSettings(range, subnetPrefix, value, dns, blockedDestinations, firstHostPort, lastHostPort,
                table, interfacePrefix, forwardingInHostNamespace);
    }

    public NetworkSettings withDns(List<Ipv4Address> value) {
        return new NetworkSettings(range, subnetPrefix, ipv6, value, blockedDestinations, firstHostPort, lastHostPort,
                table, interfacePrefix, forwardingInHostNamespace);
    }

    public NetworkSettings withHostPorts(int first, int last) {
        return new NetworkSettings(range, subnetPrefix, ipv6, dns, blockedDestinations, first, last,
                table, interfacePrefix, forwardingInHostNamespace);
    }

    public NetworkSettings withForwardingInHostNamespace(boolean value) {
        return new NetworkSettings(range, subnetPrefix, ipv6, dns, blockedDestinations, firstHostPort, lastHostPort,
                table, interfacePrefix, value);
    }

    /** What the node's table matches VM interfaces by ({@code kiln-*}). */
    String interfaceWildcard() {
        return interfacePrefix + "*";
    }
}
