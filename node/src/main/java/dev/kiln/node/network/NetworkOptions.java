package dev.kiln.node.network;

import dev.kiln.network.HostCommands;
import dev.kiln.network.Ipv4Address;
import dev.kiln.network.Ipv4Range;
import dev.kiln.network.Ipv6Prefix;
import dev.kiln.network.NetworkSettings;
import dev.kiln.network.LinkCreator;
import dev.kiln.network.NodeNetwork;
import dev.kiln.node.records.DetachedVmRecords;
import java.util.List;

/**
 * The operator's networking choices as {@code kiln node} takes them (text, so that the command
 * line needs no network types); null or empty means the default of {@link NetworkSettings}.
 *
 * @param range     the IPv4 block cut into VM subnets, e.g. {@code 172.16.0.0/16}
 * @param ipv6      the IPv6 prefix routed to the node, or null for IPv4 only
 * @param dns       resolvers for guests; empty: the host's
 * @param hostPorts forwarded host ports {@code FIRST-LAST}
 * @param forwardingInHostNamespace whether the node may turn on IP forwarding in the host's own namespace
 */
public record NetworkOptions(String range, String ipv6, List<String> dns, String hostPorts,
                             boolean forwardingInHostNamespace) {

    public NetworkOptions {
        dns = dns == null ? List.of() : List.copyOf(dns);
    }

    /** @throws IllegalArgumentException naming the option that does not parse */
    public NetworkSettings settings() {
        NetworkSettings s = NetworkSettings.defaults().withForwardingInHostNamespace(forwardingInHostNamespace);
        if (range != null) s = s.withRange(Ipv4Range.parse(range));
        if (ipv6 != null) s = s.withIpv6(Ipv6Prefix.parse(ipv6));
        if (!dns.isEmpty()) s = s.withDns(dns.stream().map(Ipv4Address::parse).toList());
        if (hostPorts != null) {
            String[] ends = hostPorts.split("-", -1);
            try {
                if (ends.length != 2) throw new NumberFormatException();
                s = s.withHostPorts(Integer.parseInt(ends[0].trim()), Integer.parseInt(ends[1].trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("host ports must be FIRST-LAST, e.g. 24000-24999, not '" + hostPorts + "'");
            }
        }
        return s;
    }

    /**
     * Probes and sets up the node's networking in the namespace this process runs in. When the
     * host cannot (no root, no /dev/net/tun), the result says why and internet programs get 400.
     * Programs get the forwards {@code published} names for them.
     */
    public ProgramNetworks start(PublishedPorts published) {
        return ProgramNetworks.over(NodeNetwork.start(settings(), HostCommands.current()), published);
    }

    /**
     * As {@link #start(PublishedPorts)}, keeping the networks of the VMs an earlier node left
     * running that {@code detached} records (docs/network.md, "Crash and restart").
     */
    public ProgramNetworks start(PublishedPorts published, DetachedVmRecords detached) {
        return ProgramNetworks.over(NodeNetwork.start(settings(), HostCommands.current(), LinkCreator.TAP,
                ProgramNetworks.heldBy(detached)), published);
    }
}
