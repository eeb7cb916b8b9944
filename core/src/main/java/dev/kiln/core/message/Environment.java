package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;

/**
 * {@code environment}: what the VM may reach and, for instances, which VMM runs it. One record for
 * programs and instances because the wire shapes overlap; the validator refuses the instance-only
 * fields on a program. Every flag defaults to false, as in aleph.
 */
public record Environment(
        Boolean reproducible,
        Boolean internet,
        Boolean alephApi,
        Boolean sharedCache,
        String hypervisor,
        TrustedExecution trustedExecution,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public static final Environment EMPTY = new Environment(null, null, null, null, null, null, Map.of());

    public Environment {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public boolean hasInternet() {
        return internet != null && internet;
    }

    public boolean hasAlephApi() {
        return alephApi != null && alephApi;
    }

    public boolean isReproducible() {
        return reproducible != null && reproducible;
    }

    public boolean hasSharedCache() {
        return sharedCache != null && sharedCache;
    }

    /** Empty when absent (the node chooses) or not a known hypervisor. */
    public Optional<Hypervisor> knownHypervisor() {
        return Hypervisor.fromWire(hypervisor);
    }

    public boolean isConfidential() {
        return trustedExecution != null;
    }
}
