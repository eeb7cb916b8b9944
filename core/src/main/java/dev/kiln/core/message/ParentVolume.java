package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.util.Map;

/** The image a writable volume or an instance's root filesystem starts as a copy of. */
public record ParentVolume(
        String ref,
        Boolean useLatest,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public ParentVolume {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static ParentVolume of(ItemHash ref) {
        return new ParentVolume(ref.value(), false, Map.of());
    }

    public ItemHash refHash() {
        return ItemHash.parse(ref);
    }

    /** aleph's default is true: copy the latest amend of the parent image. */
    public boolean useLatestOrDefault() {
        return useLatest == null || useLatest;
    }
}
