package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.Map;
import java.util.Optional;

/**
 * A writable volume that outlives the VM, identified by {@code name} within its owner's volumes
 * (the node keeps it as a file named after it), optionally starting as a copy of {@code parent}.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
public record PersistentVolume(
        String comment,
        String mount,
        ParentVolume parent,
        String persistence,
        String name,
        Long sizeMib,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) implements Volume {

    public PersistentVolume {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static PersistentVolume of(String mount, String name, Persistence persistence, long sizeMib) {
        return new PersistentVolume(null, mount, null, persistence.wire(), name, sizeMib, Map.of());
    }

    public Optional<Persistence> knownPersistence() {
        return Persistence.fromWire(persistence);
    }

    @Override
    public boolean readOnly() {
        return false;
    }
}
