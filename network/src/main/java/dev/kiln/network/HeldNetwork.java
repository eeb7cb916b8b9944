package dev.kiln.network;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A running VM's network as one line of text, kept in the node's records while the VM outlives
 * its node (a persistent program's detached VM), so that the next node can keep exactly that
 * device, subnet, address and forwarded ports for it instead of sweeping them:
 * {@code if=kiln-3 mac=02:4b:4c:00:00:03 subnet=3/172.16.0.12/30 ipv6=HIGH:LOW fwd=tcp:24000:8080,…}
 * ({@code ipv6=-} on an IPv4-only node, {@code fwd=} without forwards). The resolvers are not kept:
 * the guest was configured with them already.
 */
public final class HeldNetwork {
    private HeldNetwork() {
    }

    public static String format(VmNetwork vm) {
        StringBuilder fwd = new StringBuilder();
        for (PortForward f : vm.forwards()) {
            if (!fwd.isEmpty()) fwd.append(',');
            fwd.append(f.protocol().nft()).append(':').append(f.hostPort()).append(':').append(f.guestPort());
        }
        String ipv6 = vm.ipv6() == null ? "-" : Long.toHexString(vm.ipv6().subnetHigh()) + ":" + Long.toHexString(vm.ipv6().subnetLow());
        return "if=" + vm.interfaceName() + " mac=" + vm.mac() + " subnet=" + vm.subnet().index() + "/" + vm.subnet().range()
                + " ipv6=" + ipv6 + " fwd=" + fwd;
    }

    /** @throws IllegalArgumentException if the text is not what {@link #format} writes */
    public static VmNetwork parse(String text, String itemHash) {
        String ifName = null;
        String mac = null;
        VmSubnet subnet = null;
        VmIpv6 ipv6 = null;
        List<PortForward> forwards = new ArrayList<>();
        for (String field : text.trim().split(" ")) {
            int eq = field.indexOf('=');
            if (eq < 0) throw new IllegalArgumentException("not a held network: '" + text + "'");
            String key = field.substring(0, eq);
            String value = field.substring(eq + 1);
            switch (key) {
                case "if" -> ifName = value;
                case "mac" -> mac = value;
                case "subnet" -> {
                    int slash = value.indexOf('/');
                    subnet = new VmSubnet(Integer.parseInt(value.substring(0, slash)), Ipv4Range.parse(value.substring(slash + 1)));
                }
                case "ipv6" -> {
                    if (!value.equals("-")) {
                        String[] halves = value.split(":");
                        ipv6 = new VmIpv6(Long.parseUnsignedLong(halves[0], 16), Long.parseUnsignedLong(halves[1], 16));
                    }
                }
                case "fwd" -> {
                    for (String f : value.isEmpty() ? new String[0] : value.split(",")) {
                        String[] p = f.split(":");
                        forwards.add(new PortForward(PortForward.Protocol.valueOf(p[0].toUpperCase(Locale.ROOT)),
                                Integer.parseInt(p[1]), Integer.parseInt(p[2])));
                    }
                }
                default -> throw new IllegalArgumentException("unknown field '" + key + "' in held network '" + text + "'");
            }
        }
        if (ifName == null || mac == null || subnet == null) throw new IllegalArgumentException("incomplete held network: '" + text + "'");
        return new VmNetwork(itemHash, ifName, mac, subnet, ipv6, List.of(), forwards);
    }
}
