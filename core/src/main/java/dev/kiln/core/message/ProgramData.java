package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.util.Map;
import java.util.Optional;

/** PROGRAM {@code data}: input data (a STORE item) unpacked at {@code mount} before the program starts. */
public record ProgramData(
        String encoding,
        String mount,
        String ref,
        Boolean useLatest,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public ProgramData {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public Optional<Encoding> knownEncoding() {
        return Encoding.fromWire(encoding);
    }

    /** Empty when the program declares a data mount without initial content. */
    public Optional<ItemHash> refHash() {
        return ref == null ? Optional.empty() : Optional.of(ItemHash.parse(ref));
    }

    public boolean useLatestOrDefault() {
        return useLatest != null && useLatest;
    }
}
