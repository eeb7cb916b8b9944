package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.kiln.core.hash.ItemHash;
import java.util.Map;

/** A read-only volume: a STORE item (e.g. a squashfs of a Python venv) mounted as is. */
@JsonDeserialize(using = JsonDeserializer.None.class) // bind as a plain record, not via Volume's chooser
public record ImmutableVolume(
        String comment,
        String mount,
        String ref,
        Boolean useLatest,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) implements Volume {

    public ImmutableVolume {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static ImmutableVolume of(String mount, ItemHash ref) {
        return new ImmutableVolume(null, mount, ref.value(), false, Map.of());
    }

    public ItemHash refHash() {
        return ItemHash.parse(ref);
    }

    /** aleph's default is true: mount the latest amend of {@code ref}. */
    public boolean useLatestOrDefault() {
        return useLatest == null || useLatest;
    }

    @Override
    public boolean readOnly() {
        return true;
    }
}
