package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/** INSTANCE content: a full VM booted from a writable copy of a root filesystem image. */
public record InstanceContent(
        String address,
        BigDecimal time,
        Boolean allowAmend,
        Rootfs rootfs,
        Environment environment,
        Resources resources,
        Map<String, String> variables,
        List<Volume> volumes,
        List<String> authorizedKeys,
        JsonNode payment,
        JsonNode requirements,
        String replaces,
        JsonNode metadata,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) implements ExecutableContent {

    public InstanceContent {
        variables = Json.copyMap(variables);
        volumes = Json.copyList(volumes);
        authorizedKeys = Json.copyList(authorizedKeys);
        payment = Json.copyNode(payment);
        requirements = Json.copyNode(requirements);
        metadata = Json.copyNode(metadata);
        unknownFields = Json.copyUnknown(unknownFields);
    }
}
