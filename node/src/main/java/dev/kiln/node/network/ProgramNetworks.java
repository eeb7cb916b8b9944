package dev.kiln.node.network;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Environment;
import dev.kiln.guest.ProgramConfig;
import dev.kiln.network.HeldNetwork;
import dev.kiln.network.NetworkCommandException;
import dev.kiln.network.NetworkSupport;
import dev.kiln.network.NetworkUnavailableException;
import dev.kiln.network.NodeNetwork;
import dev.kiln.network.PortForward;
import dev.kiln.network.PublishedPort;
import dev.kiln.network.VmIpv6;
import dev.kiln.network.VmKind;
import dev.kiln.network.VmNetwork;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.store.records.RecordsException;
import dev.kiln.vm.VmNic;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's networking as the execution pool sees it: a program whose message asks for
 * {@code environment.internet} gets a TAP device, an address and its forwards before its VMM
 * starts ({@link #attach}), and loses them when the VMM has exited ({@link #detach}). A program
 * without internet gets nothing, not even a NIC. The pool calls only these three methods, so the
 * network module stays out of the pool's classes.
 */
public final class ProgramNetworks implements AutoCloseable {

    /** The VM's side of an attachment: the card the VMM opens and what the guest agent configures. */
    public record Attached(VmNic nic, ProgramConfig.Network guest, String hostname, List<PortForward> forwards) {
    }

    private final NodeNetwork network;
    private final NetworkSupport support;
    private final PublishedPorts published;
    private final Map<String, List<PortForward>> forwards = new ConcurrentHashMap<>();

    private ProgramNetworks(NodeNetwork network, NetworkSupport support, PublishedPorts published) {
        this.network = network;
        this.support = support;
        this.published = published;
    }

    /** Networking over a started {@link NodeNetwork}, forwarding no port; {@link #close()} closes it. */
    public static ProgramNetworks over(NodeNetwork network) {
        return over(network, PublishedPorts.NONE);
    }

    /** Networking over a started {@link NodeNetwork}, forwarding the ports {@code published} names per program. */
    public static ProgramNetworks over(NodeNetwork network, PublishedPorts published) {
        return new ProgramNetworks(network, network.support(), published);
    }

    /** A node that networks no VM (tests, or networking turned off): internet programs get 400 unsupported. */
    public static ProgramNetworks disabled(String reason) {
        return new ProgramNetworks(null, new NetworkSupport.Unsupported(reason), PublishedPorts.NONE);
    }

    public NetworkSupport support() {
        return support;
    }

    /**
     * For /about: what this node can do, and that it is IPv4 only when it was given no prefix.
     */
    public String describe() {
        if (network == null || !(support instanceof NetworkSupport.Supported)) return support.describe();
        return support.describe() + (network.settings().ipv6() == null
                ? "; IPv4 only (no IPv6 prefix given)" : "; IPv6 from " + network.settings().ipv6());
    }

    /**
     * Attaches the VM of {@code executionId} when its program asks for the internet; empty when it
     * does not. Call before the VMM starts, and {@link #detach} once it has exited (also when the
     * boot failed).
     *
     * @throws NodeException 400 unsupported, naming {@code environment.internet} and why the node cannot;
     *                       502 boot_failed when a network command failed
     */
    public Optional<Attached> attach(ResolvedProgram program, String executionId) throws NodeException {
        return attach(program.messageHash(), program.content().environment(), executionId);
    }

    /** {@link #attach(ResolvedProgram, String)} for a program known by its hash and environment. */
    public Optional<Attached> attach(ItemHash program, Environment environment, String executionId) throws NodeException {
        List<PublishedPort> ports = publishedPorts(program);
        if (environment == null || !environment.hasInternet()) {
            if (!ports.isEmpty()) {
                throw new NodeException(ErrorCode.UNSUPPORTED, "program " + program + " has published ports " + ports
                        + " but no environment.internet: a forwarded port needs the VM's network card; publish the"
                        + " program with --internet, or without --publish-port");
            }
            return Optional.empty();
        }
        if (network == null) throw unsupported(program, support.describe());
        try {
            VmNetwork vm = network.attach(executionId, program.value(), VmKind.PROGRAM, ports);
            var guest = new ProgramConfig.Network(VmNetwork.GUEST_INTERFACE, vm.guestAddress(), vm.guestGateway(),
                    vm.dnsServers(), vm.ipv6() == null ? null : vm.ipv6().guest() + "/" + VmIpv6.SUBNET_PREFIX,
                    vm.ipv6() == null ? null : vm.ipv6().gateway());
            if (!vm.forwards().isEmpty()) forwards.put(executionId, vm.forwards());
            return Optional.of(new Attached(new VmNic(vm.interfaceName(), vm.mac()), guest, hostname(executionId),
                    vm.forwards()));
        } catch (NetworkUnavailableException e) {
            throw unsupported(program, e.getMessage());
        } catch (NetworkCommandException e) {
            // the node can network VMs but one ip/nft command failed: this boot fails, the next may not
            throw new NodeException(ErrorCode.BOOT_FAILED, "setting up the network of program " + program
                    + " failed: " + e.getMessage() + "; try again, and check the node host's ip and nft", e);
        }
    }

    private List<PublishedPort> publishedPorts(ItemHash program) throws NodeException {
        try {
            return published.of(program);
        } catch (RecordsException e) {
            throw new NodeException(ErrorCode.INTERNAL, "reading the published ports of program " + program
                    + " failed: " + e.getMessage(), e);
        }
    }

    /** The execution's network as the record of a VM that outlives the node keeps it ({@link HeldNetwork}); null without one. */
    public String held(String executionId) {
        return network == null ? null : network.find(executionId).map(HeldNetwork::format).orElse(null);
    }

    /** Whether this node kept the network an earlier node recorded under {@code heldKey} (see {@link #heldBy}). */
    public boolean holds(String heldKey) {
        return network != null && network.find(heldKey).isPresent();
    }

    /** The network kept under {@code heldKey} is the adopted VM's, now run as {@code executionId}; false if there is none. */
    public boolean adopt(String heldKey, String executionId) {
        if (network == null || !network.rekey(heldKey, executionId)) return false;
        List<PortForward> f = network.find(executionId).map(VmNetwork::forwards).orElse(List.of());
        if (!f.isEmpty()) forwards.put(executionId, f);
        return true;
    }

    /** The execution's VM outlives this node: its device, rules and ports stay when the node closes. */
    public void leave(String executionId) {
        if (network != null) network.leave(executionId);
        forwards.remove(executionId);
    }

    /**
     * The networks the records of VMs left running name, keyed as {@link #holds} and {@link #adopt}
     * take them (the recorded execution), for {@link NodeNetwork#start(dev.kiln.network.NetworkSettings,
     * dev.kiln.network.HostCommands, dev.kiln.network.LinkCreator, Map)}. A row that cannot be read
     * is left out: its device is swept and its VM is not adopted.
     */
    public static Map<String, VmNetwork> heldBy(DetachedVmRecords records) {
        Map<String, VmNetwork> out = new java.util.HashMap<>();
        try {
            for (DetachedVmRecords.Row row : records.list()) {
                String text = row.holdings().network();
                if (text == null) continue;
                try {
                    out.put(row.execution(), HeldNetwork.parse(text, row.program().value()));
                } catch (IllegalArgumentException e) {
                    System.getLogger(ProgramNetworks.class.getName()).log(System.Logger.Level.WARNING,
                            "the recorded network of program " + row.program() + "'s VM is unreadable: " + e.getMessage());
                }
            }
        } catch (RecordsException e) {
            System.getLogger(ProgramNetworks.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot read the records of VMs left running; their networks are not kept: " + e.getMessage());
        }
        return out;
    }

    /** Removes the execution's device, rules and ports; nothing happens when it had none. */
    public void detach(String executionId) {
        forwards.remove(executionId);
        if (network != null) network.detach(executionId);
    }

    /** The forwards of a running execution (empty without networking), for /about/executions/list. */
    public List<PortForward> forwards(String executionId) {
        return forwards.getOrDefault(executionId, List.of());
    }

    @Override
    public void close() {
        if (network != null) network.close();
    }

    /** A DNS label: the execution id is lower-case letters, digits and dashes already. */
    private static String hostname(String executionId) {
        String label = executionId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        return label.length() > 63 ? label.substring(0, 63) : label;
    }

    private static NodeException unsupported(ItemHash program, String reason) {
        return new NodeException(ErrorCode.UNSUPPORTED, "program " + program
                + " needs environment.internet, which this node cannot give: " + reason);
    }
}
