package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * PROGRAM {@code code}: the STORE item holding the program, how it is packed and how to start it.
 * {@code interface} is optional on the wire; when absent aleph infers it from the entrypoint
 * ({@code module:app} → ASGI, anything else → an executable), and so do we.
 */
public record Code(
        String encoding,
        String entrypoint,
        String ref,
        Boolean useLatest,
        @JsonProperty("interface") String codeInterface,
        List<String> args,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public Code {
        args = Json.copyList(args);
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public static Code of(Encoding encoding, String entrypoint, ItemHash ref) {
        return new Code(encoding.wire(), entrypoint, ref.value(), false, null, null, Map.of());
    }

    /** Throws on an invalid message; validate first. */
    public ItemHash refHash() {
        return ItemHash.parse(ref);
    }

    /** Empty when absent or not one of plain/zip/squashfs. */
    public Optional<Encoding> knownEncoding() {
        return Encoding.fromWire(encoding);
    }

    /** aleph's default: the code pinned by {@code ref}, not its latest amend. */
    public boolean useLatestOrDefault() {
        return useLatest != null && useLatest;
    }

    /** The explicit interface, else aleph's inference from the entrypoint; empty if it names neither. */
    public Optional<CodeInterface> effectiveInterface() {
        if (codeInterface != null) return CodeInterface.fromWire(codeInterface);
        if (entrypoint == null) return Optional.empty();
        return Optional.of(entrypoint.contains(":") ? CodeInterface.ASGI : CodeInterface.BINARY);
    }
}
