package dev.kiln.core.message;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/** Content of a message type Kiln does not model (POST, AGGREGATE, FORGET, or unknown), kept verbatim. */
public record OtherContent(ObjectNode json) implements MessageContent {
    public OtherContent {
        json = Objects.requireNonNull(json, "json").deepCopy();
    }
}
