package dev.kiln.guest;

import java.util.List;
import java.util.Set;

/** What the agent announced about itself (docs/guest-protocol.md §4). */
public record AgentHello(List<Integer> versions, String agent, String runtimeName, String runtimeHash, String python,
                         Set<String> capabilities, boolean system, boolean pid1, int maxStreams, int maxFrame,
                         int initialWindow, boolean configured, BootTimings boot) {

    public boolean can(String capability) {
        return capabilities.contains(capability);
    }
}
