package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.Map;

/** A writable scratch volume, empty at each start and discarded when the VM stops. */
@JsonDeserialize(using = JsonDeserializer.None.class)
public record EphemeralVolume(
        String comment,
        String mount,
        Boolean ephemeral,
        Long sizeMib,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) implements Volume {

    public EphemeralVolume {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static EphemeralVolume of(String mount, long sizeMib) {
        return new EphemeralVolume(null, mount, true, sizeMib, Map.of());
    }

    @Override
    public boolean readOnly() {
        return false;
    }
}
