package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.util.Map;

/** PROGRAM {@code runtime}: the root filesystem (a STORE item) the program boots from. */
public record ProgramRuntime(
        String ref,
        Boolean useLatest,
        String comment,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public ProgramRuntime {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static ProgramRuntime of(ItemHash ref, String comment) {
        return new ProgramRuntime(ref.value(), false, comment, Map.of());
    }

    public ItemHash refHash() {
        return ItemHash.parse(ref);
    }

    /** aleph's default for runtimes is true: follow the runtime publisher's amends. */
    public boolean useLatestOrDefault() {
        return useLatest == null || useLatest;
    }
}
