package dev.kiln.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's VM interfaces in its namespace. A device is the node's only if it has both the name
 * prefix and the node's alias, so a stale sweep after a crash never deletes someone else's
 * device that merely happens to be called kiln-something.
 */
final class VmLinks {

    static final String ALIAS_PREFIX = "kiln-node:";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NetworkSettings settings;
    private final HostCommands commands;

    VmLinks(NetworkSettings settings, HostCommands commands) {
        this.settings = settings;
        this.commands = commands;
    }

    String nameFor(VmSubnet subnet) {
        return settings.interfacePrefix() + subnet.index();
    }

    String alias() {
        return ALIAS_PREFIX + settings.table();
    }

    /** One ip process for the lot: a VM start should not pay for four process spawns. */
    void bringUp(String name, VmSubnet subnet, VmIpv6 ipv6) {
        StringBuilder batch = new StringBuilder()
                .append("link set dev ").append(name).append(" alias ").append(alias()).append('\n')
                .append("addr add ").append(subnet.gatewayCidr()).append(" dev ").append(name).append('\n');
        if (ipv6 != null) {
            batch.append("addr add ").append(ipv6.gateway()).append('/').append(VmIpv6.SUBNET_PREFIX)
                    .append(" dev ").append(name).append(" nodad\n");
        }
        batch.append("link set dev ").append(name).append(" up\n");
        commands.run(List.of("ip", "-batch", "-"), batch.toString()).orThrow();
    }

    void delete(String name) {
        CommandResult r = commands.run("ip", "link", "del", "dev", name);
        if (!r.ok() && exists(name)) {
            r.orThrow();
        }
    }

    boolean exists(String name) {
        return commands.run("ip", "link", "show", "dev", name).ok();
    }

    /** The node's devices present now: after a crash, every one of them is stale. */
    List<String> owned() {
        String out = commands.run("ip", "-j", "link", "show").orThrow().stdout();
        List<String> names = new ArrayList<>();
        try {
            for (JsonNode link : JSON.readTree(out)) {
                String name = link.path("ifname").asText();
                if (name.startsWith(settings.interfacePrefix()) && alias().equals(link.path("ifalias").asText())) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            throw new NetworkCommandException("cannot read 'ip -j link show': " + e.getMessage(), e);
        }
        return names;
    }
}
