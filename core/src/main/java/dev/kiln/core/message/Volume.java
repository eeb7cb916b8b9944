package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.Map;

/**
 * An entry of {@code volumes}. aleph has no type tag: the kind is recognised by its fields
 * (see {@link VolumeDeserializer}). {@code mount} is where a program sees the volume; instances
 * receive volumes as extra disks and may ignore it.
 */
@JsonDeserialize(using = VolumeDeserializer.class)
public sealed interface Volume permits ImmutableVolume, EphemeralVolume, PersistentVolume {
    String comment();

    String mount();

    Map<String, JsonNode> unknownFields();

    boolean readOnly();
}
