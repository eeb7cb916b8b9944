package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;

/** INSTANCE {@code rootfs}: a writable copy of {@code parent}, grown to {@code size_mib}, kept per {@code persistence}. */
public record Rootfs(
        ParentVolume parent,
        String persistence,
        Long sizeMib,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public Rootfs {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public Optional<Persistence> knownPersistence() {
        return Persistence.fromWire(persistence);
    }
}
