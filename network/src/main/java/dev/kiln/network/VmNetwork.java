package dev.kiln.network;

import java.util.List;

/**
 * One VM's network while it runs: its interface on the node, its addresses and forwarded ports.
 * Everything the VM launcher and the guest configuration need comes from here.
 *
 * @param interfaceName the TAP device on the node ({@code kiln-<subnet index>})
 * @param mac           the guest NIC's MAC: locally administered, derived from the subnet index
 * @param ipv6          the VM's IPv6 subnet, or null on an IPv4-only node
 * @param dns           resolvers for the guest's /etc/resolv.conf
 */
public record VmNetwork(String itemHash, String interfaceName, String mac, VmSubnet subnet, VmIpv6 ipv6,
                        List<Ipv4Address> dns, List<PortForward> forwards) {

    /** The name the guest sees; a microVM has exactly one NIC. */
    public static final String GUEST_INTERFACE = "eth0";

    public VmNetwork {
        dns = List.copyOf(dns);
        forwards = List.copyOf(forwards);
    }

    /**
     * QEMU arguments for the NIC: QEMU opens the TAP the node made (script=no: QEMU must not run
     * ifup scripts as root) and a virtio-mmio NIC, as microvm has no PCI.
     */
    public List<String> qemuArguments() {
        return List.of("-netdev", "tap,id=net0,ifname=" + interfaceName + ",script=no,downscript=no",
                "-device", "virtio-net-device,netdev=net0,mac=" + mac);
    }

    /** The guest agent's {@code network.address}: "172.16.0.2/30". */
    public String guestAddress() {
        return subnet.guestCidr();
    }

    /** The guest agent's {@code network.gateway}. */
    public String guestGateway() {
        return subnet.gateway().toString();
    }

    /** The guest agent's {@code network.dns}. */
    public List<String> dnsServers() {
        return dns.stream().map(Ipv4Address::toString).toList();
    }

    static String macFor(int index) {
        // 02: locally administered unicast; 4b:4c = "KL"
        return "02:4b:4c:%02x:%02x:%02x".formatted((index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff);
    }
}
