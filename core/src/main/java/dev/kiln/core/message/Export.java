package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Optional;

/** PROGRAM {@code export}: a directory to pack and publish after a run. */
public record Export(
        String encoding,
        String mount,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public Export {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public Optional<Encoding> knownEncoding() {
        return Encoding.fromWire(encoding);
    }
}
