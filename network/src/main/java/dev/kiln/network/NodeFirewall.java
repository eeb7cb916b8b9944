package dev.kiln.network;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The node's nftables table: the whole policy lives in one table of its own (family inet), and
 * VMs come and go as set and map elements, never as rules, so adding or removing a VM is one
 * atomic nft transaction and nobody else's tables, chains or rules are ever touched.
 *
 * <p>Every chain has policy accept: the table only drops traffic of the node's own interfaces,
 * so it cannot break the host's other traffic; another table's drop still applies to VMs.
 */
final class NodeFirewall {

    /** Link-local, where clouds put their metadata service (169.254.169.254). */
    private static final Ipv4Range LINK_LOCAL = Ipv4Range.parse("169.254.0.0/16");

    private final NetworkSettings settings;
    private final HostCommands commands;

    NodeFirewall(NetworkSettings settings, HostCommands commands) {
        this.settings = settings;
        this.commands = commands;
    }

    String qualifiedName() {
        return "inet " + settings.table();
    }

    boolean exists() {
        return commands.run("nft", "list", "table", "inet", settings.table()).ok();
    }

    /**
     * Installs the table, replacing a stale one from a crashed run in the same transaction, with
     * the elements of the VMs {@code kept} from an earlier run: their traffic is never without rules.
     */
    void install(List<VmNetwork> kept) {
        StringBuilder script = new StringBuilder("add table " + qualifiedName() + "\n"
                + "delete table " + qualifiedName() + "\n"
                + ruleset());
        kept.forEach(vm -> script.append(elements("add", vm)));
        commands.run(List.of("nft", "-f", "-"), script.toString()).orThrow();
    }

    void remove() {
        if (exists()) {
            commands.run("nft", "delete", "table", "inet", settings.table()).orThrow();
        }
    }

    void addVm(VmNetwork vm) {
        commands.run(List.of("nft", "-f", "-"), elements("add", vm)).orThrow();
    }

    void removeVm(VmNetwork vm) {
        commands.run(List.of("nft", "-f", "-"), elements("delete", vm)).orThrow();
    }

    String elements(String verb, VmNetwork vm) {
        String t = qualifiedName();
        StringBuilder s = new StringBuilder();
        s.append(verb).append(" element ").append(t).append(" vm_addr4 { \"").append(vm.interfaceName())
                .append("\" . ").append(vm.subnet().guest()).append(" }\n");
        if (vm.ipv6() != null) {
            s.append(verb).append(" element ").append(t).append(" vm_addr6 { \"").append(vm.interfaceName())
                    .append("\" . ").append(vm.ipv6().guest()).append(" }\n");
        }
        for (PortForward f : vm.forwards()) {
            s.append(verb).append(" element ").append(t).append(" forward4 { ").append(f.protocol().nft())
                    .append(" . ").append(f.hostPort());
            if (verb.equals("add")) {
                s.append(" : ").append(vm.subnet().guest()).append(" . ").append(f.guestPort());
            }
            s.append(" }\n");
            if (vm.ipv6() != null) {
                s.append(verb).append(" element ").append(t).append(" open6 { ").append(vm.ipv6().guest())
                        .append(" . ").append(f.protocol().nft()).append(" . ").append(f.guestPort()).append(" }\n");
            }
        }
        return s.toString();
    }

    String ruleset() {
        String vm = "\"" + settings.interfaceWildcard() + "\"";
        String blocked = Stream.concat(Stream.of(LINK_LOCAL, settings.range()), settings.blockedDestinations().stream())
                .map(Ipv4Range::toString).distinct().collect(Collectors.joining(", "));
        return """
                table %1$s {
                  # what each VM interface may send from: its own guest address, nothing else
                  set vm_addr4 { type ifname . ipv4_addr; }
                  set vm_addr6 { type ifname . ipv6_addr; }
                  set blocked4 { type ipv4_addr; flags interval; auto-merge; elements = { %3$s } }
                  set blocked6 { type ipv6_addr; flags interval; elements = { fe80::/10 } }
                  # forwarded ports: protocol . host port -> guest address . guest port
                  map forward4 { type inet_proto . inet_service : ipv4_addr . inet_service; }
                  # published guest ports on routed IPv6 (no NAT there)
                  set open6 { type ipv6_addr . inet_proto . inet_service; }

                  chain spoof_guard {
                    type filter hook prerouting priority raw; policy accept;
                    iifname %2$s meta nfproto ipv4 iifname . ip saddr != @vm_addr4 drop
                    iifname %2$s meta nfproto ipv6 ip6 saddr != fe80::/10 iifname . ip6 saddr != @vm_addr6 drop
                  }
                  chain port_forward {
                    type nat hook prerouting priority dstnat; policy accept;
                    iifname != %2$s fib daddr type local dnat ip to meta l4proto . th dport map @forward4
                  }
                  chain port_forward_local {
                    type nat hook output priority -100; policy accept;
                    fib daddr type local dnat ip to meta l4proto . th dport map @forward4
                  }
                  chain guest_to_host {
                    type filter hook input priority filter; policy accept;
                    iifname %2$s ct state established,related accept
                    iifname %2$s icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
                    iifname %2$s drop
                  }
                  chain guest_traffic {
                    type filter hook forward priority filter; policy accept;
                    iifname %2$s oifname %2$s drop
                    iifname %2$s ip daddr @blocked4 drop
                    iifname %2$s ip6 daddr @blocked6 drop
                    oifname %2$s ct state established,related accept
                    oifname %2$s ct status dnat accept
                    oifname %2$s ip6 daddr . meta l4proto . th dport @open6 accept
                    oifname %2$s drop
                  }
                  chain outbound_nat {
                    type nat hook postrouting priority srcnat; policy accept;
                    ip saddr %4$s oifname != %2$s masquerade
                  }
                }
                """.formatted(qualifiedName(), vm, blocked, settings.range());
    }
}
