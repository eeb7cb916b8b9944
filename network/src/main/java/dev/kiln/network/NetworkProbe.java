package dev.kiln.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds out at start whether VMs can be networked here, by doing the real thing once: creating
 * and deleting a TAP, listing nftables tables, reading the routes. Each failure becomes a reason
 * a user can act on.
 */
final class NetworkProbe {

    private static final Path TUN = Path.of("/dev/net/tun");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NetworkSettings settings;
    private final HostCommands commands;

    NetworkProbe(NetworkSettings settings, HostCommands commands) {
        this.settings = settings;
        this.commands = commands;
    }

    NetworkSupport probe() {
        if (!Files.exists(TUN)) {
            return new NetworkSupport.Unsupported(TUN + " is missing (load the tun module: modprobe tun)");
        }
        if (!Files.isReadable(TUN) || !Files.isWritable(TUN)) {
            return new NetworkSupport.Unsupported(TUN + " is not readable and writable by this user (run the node as root)");
        }
        CommandResult nft;
        try {
            if (!commands.run("ip", "-V").ok()) {
                return new NetworkSupport.Unsupported("ip(8) does not run (install iproute2)");
            }
            nft = commands.run("nft", "list", "tables");
        } catch (NetworkCommandException e) {
            return new NetworkSupport.Unsupported(e.getMessage());
        }
        if (!nft.ok()) {
            return new NetworkSupport.Unsupported("nft cannot list tables (" + nft.stderr().strip()
                    + "): the node needs root or CAP_NET_ADMIN, and nftables installed");
        }
        String probeName = settings.interfacePrefix() + "probe";
        // a run killed between these two commands leaves the probe device behind
        commands.run("ip", "link", "del", "dev", probeName);
        CommandResult tap = commands.run("ip", "tuntap", "add", "dev", probeName, "mode", "tap");
        if (!tap.ok()) {
            return new NetworkSupport.Unsupported("cannot create a TAP device (" + tap.stderr().strip()
                    + "): run the node as root or with CAP_NET_ADMIN");
        }
        commands.run("ip", "link", "del", "dev", probeName).orThrow();
        String overlap = overlappingRoute();
        if (overlap != null) {
            return new NetworkSupport.Unsupported("the VM range " + settings.range() + " overlaps the route " + overlap
                    + " of this namespace; give the node another range");
        }
        String forwarding = forwardingProblem();
        if (forwarding != null) {
            return new NetworkSupport.Unsupported(forwarding);
        }
        return new NetworkSupport.Supported("IPv4 " + settings.range() + " (/" + settings.subnetPrefix() + " per VM)"
                + (settings.ipv6() == null ? ", no IPv6 (no prefix configured)" : ", IPv6 " + settings.ipv6() + " (/124 per VM)")
                + ", forwarded host ports " + settings.firstHostPort() + "-" + settings.lastHostPort()
                + ", nftables table inet " + settings.table() + " in " + commands);
    }

    /** A route not of the node's own devices whose destination overlaps the VM range. */
    private String overlappingRoute() {
        String out = commands.run("ip", "-j", "-4", "route", "show", "table", "all").orThrow().stdout();
        try {
            for (JsonNode route : JSON.readTree(out)) {
                String dst = route.path("dst").asText();
                String dev = route.path("dev").asText();
                if (dev.startsWith(settings.interfacePrefix()) || dst.equals("default") || dst.isEmpty()) {
                    continue;
                }
                Ipv4Range range;
                try {
                    range = Ipv4Range.parse(dst.contains("/") ? dst : dst + "/32");
                } catch (IllegalArgumentException notARange) {
                    continue;
                }
                if (range.overlaps(settings.range()) && !range.base().isLoopback()) {
                    return dst + " (dev " + dev + ")";
                }
            }
        } catch (IOException e) {
            throw new NetworkCommandException("cannot read 'ip -j route': " + e.getMessage(), e);
        }
        return null;
    }

    /**
     * In its own namespace the node turns forwarding on itself; in the host's initial namespace
     * that is a host-wide change, made only when the operator allowed it or did it already.
     */
    private String forwardingProblem() {
        if (!inHostNamespace() || settings.forwardingInHostNamespace()) {
            return null;
        }
        String on = commands.run("cat", "/proc/sys/net/ipv4/ip_forward").stdout().strip();
        if (on.equals("1")) {
            return null;
        }
        return "IPv4 forwarding is off and the node runs in the host's own network namespace: enable it"
                + " (sysctl -w net.ipv4.ip_forward=1), allow the node to (network forwarding-in-host-namespace),"
                + " or run the node in a namespace of its own (ip netns exec NS kiln node)";
    }

    /**
     * The node is in a namespace of its own when its commands go to a named one, when it was
     * started with ip netns exec (ip netns identify names it), or when init's namespace is
     * readable and differs. Not knowing counts as the host's: then the node never changes a
     * host-wide setting by mistake.
     */
    boolean inHostNamespace() {
        if (commands.namespace() != null) {
            return false;
        }
        CommandResult named = commands.run("ip", "netns", "identify");
        if (named.ok() && !named.stdout().isBlank()) {
            return false;
        }
        CommandResult self = commands.run("readlink", "/proc/self/ns/net");
        CommandResult init = commands.run("readlink", "/proc/1/ns/net");
        return !self.ok() || !init.ok() || self.stdout().strip().equals(init.stdout().strip());
    }
}
