package dev.kiln.network;

import java.io.IOException;

/**
 * Stands in for a QEMU TAP until the integration test boots a real VM: a TAP only carries
 * traffic while a process holds it open, and the guest end of a TAP is inside QEMU. A veth pair
 * is the faithful substitute: its node end gets the TAP's name, alias, address and every rule
 * (all of which match by interface name), and its other end, "eth0", sits in a namespace of its
 * own playing the guest, configured as the guest agent would (address, default route, resolver).
 */
final class VethStandIn implements LinkCreator {

    private final NetnsLab lab;

    VethStandIn(NetnsLab lab) {
        this.lab = lab;
    }

    /** The namespace playing the guest behind a node interface. */
    String guestNamespace(String interfaceName) {
        return lab.name(interfaceName);
    }

    @Override
    public void create(HostCommands commands, String name, VmSubnet subnet) {
        String guest = guestNamespace(name);
        if (!lab.namespaces().contains(guest)) {
            lab.add(name);
        }
        commands.run("ip", "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", guest).orThrow();
    }

    /** What the guest agent's configure_network and resolv.conf step do, for the stand-in guest. */
    String configureGuest(VmNetwork vm) throws IOException {
        String guest = guestNamespace(vm.interfaceName());
        HostCommands g = lab.in(guest);
        g.run("ip", "addr", "add", vm.subnet().guestCidr(), "dev", "eth0").orThrow();
        g.run("ip", "link", "set", "eth0", "up").orThrow();
        g.run("ip", "route", "add", "default", "via", vm.subnet().gateway().toString()).orThrow();
        if (vm.ipv6() != null) {
            g.run("ip", "-6", "addr", "add", vm.ipv6().guest() + "/" + VmIpv6.SUBNET_PREFIX, "dev", "eth0", "nodad").orThrow();
            g.run("ip", "-6", "route", "add", "default", "via", vm.ipv6().gateway()).orThrow();
        }
        lab.resolvConf(guest, vm.dns());
        return guest;
    }
}
