package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * What PROGRAM and INSTANCE contents share: a VM's owner, environment, resources, variables,
 * volumes and keys. {@code payment}, {@code requirements} and {@code metadata} are kept as JSON:
 * Kiln does not act on them yet.
 */
public sealed interface ExecutableContent extends MessageContent permits ProgramContent, InstanceContent {
    String address();

    BigDecimal time();

    Boolean allowAmend();

    Environment environment();

    Resources resources();

    Map<String, String> variables();

    List<Volume> volumes();

    List<String> authorizedKeys();

    JsonNode payment();

    JsonNode requirements();

    String replaces();

    JsonNode metadata();

    Map<String, JsonNode> unknownFields();

    /** Resources with every absent field at its default (1 vCPU, 128 MiB, 30 s). */
    default Resources resourcesOrDefault() {
        Resources r = resources();
        return (r == null ? new Resources(null, null, null, Map.of()) : r).withDefaults();
    }

    default Environment environmentOrDefault() {
        return environment() == null ? Environment.EMPTY : environment();
    }

    default List<Volume> volumesOrEmpty() {
        return volumes() == null ? List.of() : volumes();
    }

    default Map<String, String> variablesOrEmpty() {
        return variables() == null ? Map.of() : variables();
    }

    default List<String> authorizedKeysOrEmpty() {
        return authorizedKeys() == null ? List.of() : authorizedKeys();
    }

    /** Whether later messages may amend this one (aleph's default: no). */
    default boolean amendable() {
        return allowAmend() != null && allowAmend();
    }
}
