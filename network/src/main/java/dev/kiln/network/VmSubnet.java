package dev.kiln.network;

/**
 * One VM's slice of the node's range: the host side of its TAP is the first usable address
 * (the guest's gateway), the guest the second. A /30 has exactly those two.
 *
 * @param index the slot in the node's range; also names the TAP, so it is unique while allocated
 */
public record VmSubnet(int index, Ipv4Range range) {

    public Ipv4Address gateway() {
        return range.base().plus(1);
    }

    public Ipv4Address guest() {
        return range.base().plus(2);
    }

    /** The guest's address with its prefix, as the guest agent's {@code network.address} takes it. */
    public String guestCidr() {
        return guest() + "/" + range.prefixLength();
    }

    public String gatewayCidr() {
        return gateway() + "/" + range.prefixLength();
    }
}
