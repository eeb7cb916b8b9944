package dev.kiln.node.control;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What converging to an allocation did, answered the way aleph-vm answers it: {@code success},
 * {@code successful} and {@code failing} hashes, {@code errors} by hash; plus what was
 * {@code started} (not running before) and {@code stopped} (no longer listed).
 *
 * @param listed the hashes the allocation names
 */
public record AllocationOutcome(Set<ItemHash> listed, List<ItemHash> started, List<ItemHash> stopped,
                                Map<ItemHash, String> errors) {
    public AllocationOutcome {
        listed = Set.copyOf(listed);
        started = List.copyOf(started);
        stopped = List.copyOf(stopped);
        errors = Map.copyOf(errors);
    }

    public boolean success() {
        return errors.isEmpty();
    }

    public Set<ItemHash> failing() {
        return errors.keySet();
    }

    public Set<ItemHash> successful() {
        Set<ItemHash> s = new LinkedHashSet<>(listed);
        s.removeAll(errors.keySet());
        return s;
    }

    /** aleph's statuses: 200 all went well, 503 nothing did, 207 some of each. */
    public int httpStatus() {
        if (errors.isEmpty()) return 200;
        return successful().isEmpty() ? 503 : 207;
    }

    public ObjectNode toJson() {
        ObjectNode o = Allocation.JSON.createObjectNode();
        o.put("success", success());
        hashes(o.putArray("successful"), successful());
        hashes(o.putArray("failing"), failing());
        ObjectNode e = o.putObject("errors");
        errors.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(x -> e.put(x.getKey().value(), x.getValue()));
        hashes(o.putArray("started"), started);
        hashes(o.putArray("stopped"), stopped);
        return o;
    }

    private static void hashes(ArrayNode a, java.util.Collection<ItemHash> hs) {
        hs.stream().sorted().forEach(h -> a.add(h.value()));
    }
}
