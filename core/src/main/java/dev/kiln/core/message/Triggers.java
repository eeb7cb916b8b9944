package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * PROGRAM {@code on}: what starts the program. {@code http} boots it on demand for HTTP requests,
 * {@code persistent} keeps it running, {@code message} lists subscription filters (free-form
 * objects such as {@code {"channel": "TEST"}}, kept as JSON).
 */
public record Triggers(
        Boolean http,
        List<JsonNode> message,
        Boolean persistent,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public Triggers {
        message = Json.copyList(message);
        unknownFields = Json.copyUnknown(unknownFields);
    }

    /** On-demand over HTTP, the usual shape of a function. */
    public static Triggers onHttpRequests() {
        return new Triggers(true, null, null, Map.of());
    }

    public boolean onHttp() {
        return http != null && http;
    }

    public boolean isPersistent() {
        return persistent != null && persistent;
    }

    public List<JsonNode> subscriptions() {
        return message == null ? List.of() : message;
    }
}
