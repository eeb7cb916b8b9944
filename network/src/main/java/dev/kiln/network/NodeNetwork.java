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
 *
 * <p>Except the networks of VMs that outlive the node (persistent programs' detached VMs): a VM
 * {@link #leave left} running keeps its device, its elements and the table at exit, and the next
 * start given it as {@code held} keeps them too — its subnet and ports claimed again, its device
 * spared by the sweep, its elements in the same transaction as the new table — under the key it
 * was held by, until it is {@link #rekey rekeyed} to the VM's new execution or {@link #detach detached}.
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
    private final java.util.Set<String> left = ConcurrentHashMap.newKeySet();
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
        return start(settings, commands, links, Map.of());
    }

    /**
     * As {@link #start(NetworkSettings, HostCommands, LinkCreator)}, keeping the networks of VMs an
     * earlier node left running ({@code held}: key → network); one that does not fit these
     * settings or whose device is gone is not kept (its device, if any, is swept): {@link #find}
     * tells which were.
     */
    public static NodeNetwork start(NetworkSettings settings, HostCommands commands, LinkCreator links,
                                    Map<String, VmNetwork> held) {
        NetworkSupport support = new NetworkProbe(settings, commands).probe();
        List<Ipv4Address> dns = settings.dns().isEmpty() ? DnsResolvers.fromHost() : settings.dns();
        if (!(support instanceof NetworkSupport.Supported)) {
            return new NodeNetwork(settings, commands, links, support, dns);
        }
        NodeNetwork network = new NodeNetwork(settings, commands, links, support, dns);
        try {
            List<VmNetwork> kept = network.keep(held);
            network.sweepStale(kept);
            network.firewall.install(kept);
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

    /** The network attached (or held) under {@code key}. */
    public java.util.Optional<VmNetwork> find(String key) {
        return java.util.Optional.ofNullable(attached.get(key));
    }

    /** The network held under {@code from} is the VM's under {@code to} from now on; false if none is. */
    public boolean rekey(String from, String to) {
        VmNetwork vm = attached.get(from);
        if (vm == null || attached.putIfAbsent(to, vm) != null) return false;
        attached.remove(from, vm);
        return true;
    }

    /** The VM of {@code key} outlives this node: {@link #close()} leaves its device and elements (and so the table). */
    public void leave(String key) {
        if (attached.containsKey(key)) left.add(key);
    }

    /**
     * Removes the node's table and every interface it made, attached or left over — but for the
     * VMs {@link #leave left} running: then the table stays with their elements, and their devices.
     */
    @Override
    public void close() {
        closed = true;
        if (!(support instanceof NetworkSupport.Supported)) {
            return;
        }
        List<String> keep = left.stream().map(attached::get).filter(Objects::nonNull).map(VmNetwork::interfaceName).toList();
        attached.clear();
        if (keep.isEmpty()) firewall.remove();
        vmLinks.owned().stream().filter(n -> !keep.contains(n)).forEach(vmLinks::delete);
    }

    /** The held networks that fit this node: their subnets and ports claimed, registered under their keys. */
    private List<VmNetwork> keep(Map<String, VmNetwork> held) {
        List<VmNetwork> kept = new ArrayList<>();
        if (held.isEmpty()) return kept;
        List<String> present = vmLinks.owned();
        for (Map.Entry<String, VmNetwork> h : held.entrySet()) {
            VmNetwork vm = h.getValue();
            VmSubnet subnet = vm.subnet();
            boolean fits = subnet.index() >= 0 && subnet.index() < subnets.capacity() && subnets.subnet(subnet.index()).equals(subnet)
                    && vm.interfaceName().equals(vmLinks.nameFor(subnet)) && present.contains(vm.interfaceName())
                    && (vm.ipv6() == null) == (settings.ipv6() == null)
                    && vm.forwards().stream().allMatch(f -> f.hostPort() >= settings.firstHostPort() && f.hostPort() <= settings.lastHostPort());
            if (!fits || !subnets.claim(subnet)) continue;
            List<Integer> ports = new ArrayList<>();
            for (PortForward f : vm.forwards()) {
                int slot = f.hostPort() - settings.firstHostPort();
                if (!hostPorts.tryClaim(slot)) break;
                ports.add(slot);
            }
            if (ports.size() != vm.forwards().size()) {
                ports.forEach(hostPorts::release);
                subnets.release(subnet);
                continue;
            }
            attached.put(h.getKey(), vm);
            kept.add(vm);
        }
        return kept;
    }

    private void sweepStale(List<VmNetwork> kept) {
        List<String> names = kept.stream().map(VmNetwork::interfaceName).toList();
        vmLinks.owned().stream().filter(n -> !names.contains(n)).forEach(vmLinks::delete);
        // The table is replaced in one transaction with the kept VMs' elements (install), never removed meanwhile.
        if (kept.isEmpty()) firewall.remove();
    }

    private void enableForwarding() {
        commands.run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").orThrow();
        if (settings.ipv6() != null) {
            commands.run("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1").orThrow();
        }
    }
}
