package dev.kiln.network;

/**
 * What runs in the VM, as aleph's static IPv6 scheme numbers it: the number is the 16-bit group
 * right after the node's /64 prefix, so the kinds never share addresses.
 */
public enum VmKind {
    PROGRAM(1),
    PERSISTENT_PROGRAM(2),
    INSTANCE(3);

    private final int ipv6Group;

    VmKind(int ipv6Group) {
        this.ipv6Group = ipv6Group;
    }

    public int ipv6Group() {
        return ipv6Group;
    }
}
