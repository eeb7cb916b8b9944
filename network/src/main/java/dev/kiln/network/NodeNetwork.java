package dev.kiln.network;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's side of VM networking for its whole run: at start it probes, sweeps what a crashed
 * run left (its table, its interfaces), installs its table and turns on forwarding; then it
 * attaches and detaches VMs concurrently (no lock on that path: subnets and ports are claimed
 * lock-free, each VM's rules are one nft transaction); at exit it removes all it made.
 */
public final class NodeNetwork implements AutoCloseable {

    private final NetworkSettings settings;
    private final HostCommands commands;
    private final LinkCreator links;
    private final NetworkSupport support;
    private final List<Ipv4Address> dns;
    private final SubnetPool subnets;
    private final SlotBitmap hostPorts;
    private final NodeFirewall firewall;
    private final VmLinks vmLinks;
    private final Map<String, VmNetwork> attached = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private NodeNetwork(NetworkSettings settings, HostCommands commands, LinkCreator links,
                        NetworkSupport support, List<Ipv4Address> dns) {
        this.settings = settings;
        this.commands = commands;
        this.links = links;
        this.support = support;
        this.dns = dns;
        this.subnets = new SubnetPool(settings.range(), settings.subnetPrefix());
        this.hostPorts = new SlotBitmap(settings.lastHostPort() - settings.firstHostPort() + 1);
        this.firewall = new NodeFirewall(settings, commands);
        this.vmLinks = new VmLinks(settings, commands);
    }

    /** Starts the node's networking with TAP devices; check {@link #support()} before attaching. */
    public static NodeNetwork start(NetworkSettings settings, HostCommands commands) {
        return start(settings, commands, LinkCreator.TAP);
    }

    public static NodeNetwork start(NetworkSettings settings, HostCommands commands, LinkCreator links) {
        NetworkSupport support = new NetworkProbe(settings, commands).probe();
        List<Ipv4Address> dns = settings.dns().isEmpty() ? DnsResolvers.fromHost() : settings.dns();
        if (!(support instanceof NetworkSupport.Supported)) {
            return new NodeNetwork(settings, commands, links, support, dns);
        }
        NodeNetwork network = new NodeNetwork(settings, commands, links, support, dns);
        try {
            network.sweepStale();
            network.firewall.install();
            network.enableForwarding();
            return network;
        } catch (NetworkCommandException e) {
            // the probe passed but setting up did not: the node runs on, without networking, and says why
            try {
                network.firewall.remove();
            } catch (NetworkCommandException ignored) {
                // the reason below is the one worth reporting
            }
            return new NodeNetwork(settings, commands, links,
                    new NetworkSupport.Unsupported("setting up the node's network failed: " + e.getMessage()), dns);
        }
    }

    public NetworkSupport support() {
        return support;
    }

    public List<Ipv4Address> dns() {
        return dns;
    }

    public NetworkSettings settings() {
        return settings;
    }

    /**
     * Gives a starting VM its interface, addresses and forwarded ports. The interface exists when
     * this returns, so the VMM can be started with {@link VmNetwork#qemuArguments()}.
     *
     * @param key a key unique among running VMs (the execution id), for {@link #detach(String)}
     * @throws NetworkUnavailableException when the node cannot network VMs, or is out of subnets or ports
     */
    public VmNetwork attach(String key, String itemHash, VmKind kind, List<PublishedPort> published) {
        Objects.requireNonNull(key, "key");
        if (support instanceof NetworkSupport.Unsupported u) {
            throw new NetworkUnavailableException(u.describe());
        }
        if (closed) {
            throw new NetworkUnavailableException("the node's networking is shutting down");
        }
        VmSubnet subnet = subnets.allocate().orElseThrow(() -> new NetworkUnavailableException(
                "all " + subnets.capacity() + " VM subnets of " + settings.range() + " are in use; give the node a larger range"));
        List<PortForward> forwards = new ArrayList<>();
        String name = vmLinks.nameFor(subnet);
        boolean created = false;
        try {
            for (PublishedPort p : published) {
                int slot = hostPorts.claim().orElseThrow(() -> new NetworkUnavailableException(
                        "all forwarded host ports " + settings.firstHostPort() + "-" + settings.lastHostPort()
                                + " are in use; give the node a larger port range"));
                forwards.add(new PortForward(p.protocol(), settings.firstHostPort() + slot, p.port()));
            }
            VmIpv6 ipv6 = settings.ipv6() == null ? null : VmIpv6.derive(settings.ipv6(), itemHash, kind);
            VmNetwork vm = new VmNetwork(itemHash, name, VmNetwork.macFor(subnet.index()), subnet, ipv6, dns, forwards);
            if (attached.putIfAbsent(key, vm) != null) {
                throw new IllegalStateException("a VM with key " + key + " is already attached");
            }
            links.create(commands, name, subnet);
            created = true;
            vmLinks.bringUp(name, subnet, ipv6);
            firewall.addVm(vm);
            return vm;
        } catch (RuntimeException e) {
            attached.remove(key);
            if (created) {
                vmLinks.delete(name);
            }
            forwards.forEach(f -> hostPorts.release(f.hostPort() - settings.firstHostPort()));
            subnets.release(subnet);
            throw e;
        }
    }

    /** Removes a stopped VM's rules, ports and interface; a key not attached is ignored. */
    public void detach(String key) {
        VmNetwork vm = attached.remove(key);
        if (vm == null) {
            return;
        }
        try {
            // rules first: the moment the device goes, its name could be reused by the next VM
            firewall.removeVm(vm);
            vmLinks.delete(vm.interfaceName());
        } finally {
            vm.forwards().forEach(f -> hostPorts.release(f.hostPort() - settings.firstHostPort()));
            subnets.release(vm.subnet());
        }
    }

    public List<VmNetwork> attached() {
        return List.copyOf(attached.values());
    }

    /** Removes the node's table and every interface it made, attached or left over. */
    @Override
    public void close() {
        closed = true;
        if (!(support instanceof NetworkSupport.Supported)) {
            return;
        }
        attached.clear();
        firewall.remove();
        vmLinks.owned().forEach(vmLinks::delete);
    }

    private void sweepStale() {
        vmLinks.owned().forEach(vmLinks::delete);
        firewall.remove();
    }

    private void enableForwarding() {
        commands.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").orThrow();
        if (settings.ipv6() != null) {
            commands.run("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1").orThrow();
        }
    }
}
