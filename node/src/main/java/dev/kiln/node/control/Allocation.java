package dev.kiln.node.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The set of long-running machines an operator wants on this node, in the shape of aleph-vm's
 * {@code POST /control/allocations} body: {@code persistent_vms} and {@code instances} list item
 * hashes; {@code on_demand_vms} and {@code jobs} are accepted only when absent, null or empty (on-demand
 * programs start with their first request here, and jobs are not run), anything else is refused.
 */
public record Allocation(Map<MachineKind, Set<ItemHash>> machines) {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The fields aleph defines that this node does not schedule: refused unless empty. */
    private static final List<String> NOT_SCHEDULED = List.of("on_demand_vms", "jobs");

    public static final Allocation EMPTY = new Allocation(Map.of());

    public Allocation {
        Map<MachineKind, Set<ItemHash>> copy = new EnumMap<>(MachineKind.class);
        machines.forEach((k, v) -> {
            if (!v.isEmpty()) copy.put(k, sorted(v));
        });
        machines = Map.copyOf(copy);
    }

    /** The machines of one kind, ordered by hash. */
    public Set<ItemHash> of(MachineKind kind) {
        return machines.getOrDefault(kind, Set.of());
    }

    /** Every hash, whatever its kind. */
    public Set<ItemHash> all() {
        Set<ItemHash> all = new LinkedHashSet<>();
        machines.values().forEach(all::addAll);
        return all;
    }

    /** The kind a hash is allocated as, if it is. */
    public java.util.Optional<MachineKind> kindOf(ItemHash h) {
        return machines.entrySet().stream().filter(e -> e.getValue().contains(h)).map(Map.Entry::getKey).findFirst();
    }

    public Allocation with(MachineKind kind, ItemHash h) {
        Map<MachineKind, Set<ItemHash>> m = new EnumMap<>(MachineKind.class);
        m.putAll(machines);
        Set<ItemHash> s = new LinkedHashSet<>(of(kind));
        s.add(h);
        m.put(kind, s);
        return new Allocation(m);
    }

    public Allocation without(ItemHash h) {
        Map<MachineKind, Set<ItemHash>> m = new EnumMap<>(MachineKind.class);
        machines.forEach((k, v) -> {
            Set<ItemHash> s = new LinkedHashSet<>(v);
            s.remove(h);
            m.put(k, s);
        });
        return new Allocation(m);
    }

    /** Reads a request body; every problem is a 400 naming the field. */
    public static Allocation parse(byte[] body) throws NodeException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad("the body is not JSON: " + e.getOriginalMessage(), "(body)");
        } catch (IOException e) {
            throw bad("the body cannot be read: " + e.getMessage(), "(body)");
        }
        if (root == null || !root.isObject()) {
            throw bad("the body must be a JSON object like {\"persistent_vms\": [...], \"instances\": [...]}", "(body)");
        }
        Map<MachineKind, Set<ItemHash>> m = new EnumMap<>(MachineKind.class);
        Map<ItemHash, String> seen = new java.util.HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String field = f.getKey();
            JsonNode value = f.getValue();
            MachineKind kind = kindOf(field);
            if (kind == null) {
                if (NOT_SCHEDULED.contains(field)) {
                    if (value.isNull() || (value.isArray() && value.isEmpty())) continue;
                    throw new NodeException(ErrorCode.UNSUPPORTED, field + " is not scheduled by this node: on-demand"
                            + " programs start with their first request and jobs are not run; send it empty or leave it out",
                            List.of(new NodeException.Detail(field, "unsupported")), null);
                }
                throw new NodeException(ErrorCode.UNSUPPORTED, "unknown allocation field '" + field
                        + "': this node reads persistent_vms and instances (and on_demand_vms, jobs when empty)",
                        List.of(new NodeException.Detail(field, "unsupported")), null);
            }
            if (value.isNull()) continue;
            if (!value.isArray()) throw bad(field + " must be a list of item hashes", field);
            Set<ItemHash> hashes = new LinkedHashSet<>();
            for (int i = 0; i < value.size(); i++) {
                JsonNode h = value.get(i);
                String path = field + "[" + i + "]";
                if (!h.isTextual()) throw bad(path + " must be an item hash (a string)", path);
                ItemHash hash;
                try {
                    hash = ItemHash.parse(h.asText());
                } catch (InvalidItemHashException e) {
                    throw bad(path + " is not an item hash: " + e.getMessage(), path);
                }
                String other = seen.putIfAbsent(hash, field);
                if (other != null && !other.equals(field)) {
                    throw bad(hash + " is listed in both " + other + " and " + field + "; a message is one kind of machine", path);
                }
                hashes.add(hash);
            }
            m.put(kind, hashes);
        }
        return new Allocation(m);
    }

    /** The body shape again, every kind present (empty lists included), for records and answers. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        for (MachineKind k : MachineKind.values()) {
            ArrayNode a = o.putArray(k.allocationField());
            of(k).forEach(h -> a.add(h.value()));
        }
        return o;
    }

    private static MachineKind kindOf(String field) {
        for (MachineKind k : MachineKind.values()) if (k.allocationField().equals(field)) return k;
        return null;
    }

    private static NodeException bad(String message, String path) {
        return new NodeException(ErrorCode.BAD_REQUEST, message, List.of(new NodeException.Detail(path, message)), null);
    }

    private static Set<ItemHash> sorted(Set<ItemHash> s) {
        return java.util.Collections.unmodifiableSet(new TreeSet<>(s));
    }
}
