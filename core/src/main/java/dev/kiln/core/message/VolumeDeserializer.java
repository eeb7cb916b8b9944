package dev.kiln.core.message;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.Set;

/**
 * Recognises a volume's kind by its fields, the way aleph's parser ends up reading them, and
 * binds it leniently: fields of another kind land in unknownFields, where the validator points
 * them out ("ref belongs to an immutable volume…") instead of the parse failing on the first one.
 */
final class VolumeDeserializer extends StdDeserializer<Volume> {
    static final Set<String> IMMUTABLE_FIELDS = Set.of("ref", "use_latest");
    static final Set<String> EPHEMERAL_FIELDS = Set.of("ephemeral");
    static final Set<String> PERSISTENT_FIELDS = Set.of("persistence", "name", "parent");

    VolumeDeserializer() {
        super(Volume.class);
    }

    @Override
    public Volume deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode node = ctxt.readTree(p);
        if (node == null || !node.isObject()) {
            return (Volume) ctxt.reportInputMismatch(Volume.class,
                    "a volume is an object, got %s", Json.describe(node));
        }
        return ctxt.readTreeAsValue(node, kindOf(node));
    }

    static Class<? extends Volume> kindOf(JsonNode v) {
        if (PERSISTENT_FIELDS.stream().anyMatch(v::has)) return PersistentVolume.class;
        if (EPHEMERAL_FIELDS.stream().anyMatch(v::has)) return EphemeralVolume.class;
        if (IMMUTABLE_FIELDS.stream().anyMatch(v::has)) return ImmutableVolume.class;
        // aleph's ephemeral flag defaults to true, so it reads a bare size as an ephemeral volume.
        if (v.has("size_mib")) return EphemeralVolume.class;
        // Nothing to go by: most likely an immutable volume missing its ref, which the validator reports.
        return ImmutableVolume.class;
    }
}
