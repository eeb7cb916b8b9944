package dev.kiln.network;

/**
 * Makes the node-side device of one VM. In production that is a TAP the VMM attaches to
 * ({@link #TAP}); tests that have no VM substitute a veth pair whose far end sits in a namespace
 * standing in for the guest. Addresses, rules and removal are the same for both.
 */
@FunctionalInterface
public interface LinkCreator {

    void create(HostCommands commands, String name, VmSubnet subnet);

    /** A persistent TAP device owned by the node; QEMU opens it by name. */
    LinkCreator TAP = (commands, name, subnet) ->
            commands.run("ip", "tuntap", "add", "dev", name, "mode", "tap").orThrow();
}
