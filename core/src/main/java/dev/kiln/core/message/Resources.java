package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * {@code resources}: vCPUs, memory in MiB, and {@code seconds} — for an on-demand program, how
 * long the VM may stay idle after a request before it is stopped (aleph-client's
 * {@code --timeout-seconds}). Absent fields take the defaults below; see {@link #withDefaults}.
 * Extra fields such as {@code published_ports} are kept in unknownFields.
 */
public record Resources(
        Integer vcpus,
        Long memory,
        Long seconds,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public static final int DEFAULT_VCPUS = 1;
    /** aleph-message's and aleph-client's default. */
    public static final long DEFAULT_MEMORY_MIB = 128;
    /**
     * aleph-client writes 30 when the user gives nothing; aleph-message's own schema default (1 s)
     * is shorter than a cold start, so a message relying on it would be stopped before answering.
     */
    public static final long DEFAULT_SECONDS = 30;

    public Resources {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static Resources of(int vcpus, long memoryMib, long seconds) {
        return new Resources(vcpus, memoryMib, seconds, Map.of());
    }

    /** This record with every absent field set to its default; unknown fields are kept. */
    public Resources withDefaults() {
        return new Resources(
                vcpus == null ? DEFAULT_VCPUS : vcpus,
                memory == null ? DEFAULT_MEMORY_MIB : memory,
                seconds == null ? DEFAULT_SECONDS : seconds,
                unknownFields);
    }

    /** Memory in MiB; an alias that says the unit. */
    public Long memoryMib() {
        return memory;
    }
}
