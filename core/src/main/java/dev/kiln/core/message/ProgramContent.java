package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PROGRAM content: code (a STORE item) run inside a runtime (another STORE item), started by the
 * triggers in {@code on}. Build new ones with {@link #builder}.
 */
public record ProgramContent(
        String type,
        String address,
        BigDecimal time,
        Boolean allowAmend,
        Code code,
        ProgramRuntime runtime,
        ProgramData data,
        Export export,
        Triggers on,
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

    /** The only machine type a PROGRAM may declare. */
    public static final String VM_FUNCTION = "vm-function";

    public ProgramContent {
        variables = Json.copyMap(variables);
        volumes = Json.copyList(volumes);
        authorizedKeys = Json.copyList(authorizedKeys);
        payment = Json.copyNode(payment);
        requirements = Json.copyNode(requirements);
        metadata = Json.copyNode(metadata);
        unknownFields = Json.copyUnknown(unknownFields);
    }

    // Accessors the node uses; they throw on a message that has not passed MessageValidator.

    public ItemHash codeRef() {
        return code.refHash();
    }

    public ItemHash runtimeRef() {
        return runtime.refHash();
    }

    public Encoding encoding() {
        return code.knownEncoding().orElseThrow(() ->
                new IllegalStateException("code.encoding '" + code.encoding() + "' is not valid; validate the message first"));
    }

    public String entrypoint() {
        return code.entrypoint();
    }

    public CodeInterface codeInterface() {
        return code.effectiveInterface().orElseThrow(() ->
                new IllegalStateException("code.interface is not valid; validate the message first"));
    }

    /** Kept running rather than started on demand. */
    public boolean isPersistent() {
        return on != null && on.isPersistent();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Assembles new PROGRAM content for the CLI. aleph requires {@code allow_amend},
     * {@code environment}, {@code resources} and {@code on}, so they start at aleph's defaults
     * (not amendable, every environment flag off, 1 vCPU / 128 MiB / 30 s, on-demand HTTP) and are
     * always written; other unset fields are absent from the JSON.
     */
    public static final class Builder {
        private String address;
        private BigDecimal time;
        private Boolean allowAmend = false;
        private Code code;
        private ProgramRuntime runtime;
        private ProgramData data;
        private Export export;
        private Triggers on = Triggers.onHttpRequests();
        private Environment environment = new Environment(false, false, false, false, null, null, Map.of());
        private Resources resources = new Resources(null, null, null, Map.of()).withDefaults();
        private final Map<String, String> variables = new LinkedHashMap<>();
        private final List<Volume> volumes = new ArrayList<>();
        private final List<String> authorizedKeys = new ArrayList<>();
        private String replaces;
        private JsonNode metadata;

        private Builder() {}

        public Builder address(String address) {
            this.address = address;
            return this;
        }

        public Builder time(Instant time) {
            this.time = AlephTime.of(time);
            return this;
        }

        public Builder allowAmend(boolean allowAmend) {
            this.allowAmend = allowAmend;
            return this;
        }

        public Builder code(Code code) {
            this.code = code;
            return this;
        }

        public Builder runtime(ProgramRuntime runtime) {
            this.runtime = runtime;
            return this;
        }

        public Builder data(ProgramData data) {
            this.data = data;
            return this;
        }

        public Builder export(Export export) {
            this.export = export;
            return this;
        }

        /** Defaults to {@link Triggers.onHttpRequests()}. */
        public Builder on(Triggers on) {
            this.on = on;
            return this;
        }

        public Builder environment(Environment environment) {
            this.environment = environment;
            return this;
        }

        public Builder resources(Resources resources) {
            this.resources = resources;
            return this;
        }

        public Builder variable(String name, String value) {
            variables.put(name, value);
            return this;
        }

        public Builder volume(Volume volume) {
            volumes.add(volume);
            return this;
        }

        public Builder authorizedKey(String key) {
            authorizedKeys.add(key);
            return this;
        }

        public Builder replaces(String replaces) {
            this.replaces = replaces;
            return this;
        }

        public Builder metadata(JsonNode metadata) {
            this.metadata = metadata;
            return this;
        }

        public ProgramContent build() {
            return new ProgramContent(VM_FUNCTION, address, time, allowAmend, code, runtime, data, export, on,
                    environment, resources,
                    variables.isEmpty() ? null : variables,
                    volumes.isEmpty() ? null : volumes,
                    authorizedKeys.isEmpty() ? null : authorizedKeys,
                    null, null, replaces, metadata, Map.of());
        }
    }
}
