package dev.kiln.node.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.records.ProgramRecord;

/**
 * What the console shows of a recorded PROGRAM message, read leniently from its JSON (content
 * inline or in {@code item_content}): a message the node can no longer parse still gets a row.
 */
record ProgramSummary(ItemHash hash, String name, String owner, String runtime, String codeInterface, String entrypoint,
                      String encoding, long memoryMiB, long vcpus, long seconds, String messageJson) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static ProgramSummary of(ProgramRecord r) {
        JsonNode content = JSON.createObjectNode();
        try {
            JsonNode root = JSON.readTree(r.messageJson());
            content = root.path("content");
            if (!content.isObject() && root.path("item_content").isTextual()) {
                content = JSON.readTree(root.path("item_content").asText());
            }
        } catch (java.io.IOException | RuntimeException e) {
            // unreadable: the row shows what the record itself has
        }
        JsonNode code = content.path("code");
        String entrypoint = code.path("entrypoint").asText("");
        String iface = code.path("interface").asText("");
        if (iface.isEmpty()) iface = entrypoint.contains(":") ? "asgi" : entrypoint.isEmpty() ? "" : "executable";
        JsonNode res = content.path("resources");
        return new ProgramSummary(r.messageHash(), r.name() == null ? "" : r.name(), r.sender() == null ? "" : r.sender(),
                content.path("runtime").path("ref").asText(""), iface, entrypoint, code.path("encoding").asText(""),
                res.path("memory").asLong(0), res.path("vcpus").asLong(0), res.path("seconds").asLong(0), r.messageJson());
    }

    String label() {
        return name.isEmpty() ? hash.shortForm() : name;
    }

    /** A search term finds it by hash prefix, name or owner (case-insensitive). */
    boolean matches(String q) {
        String l = q.toLowerCase(java.util.Locale.ROOT);
        return hash.value().startsWith(l) || name.toLowerCase(java.util.Locale.ROOT).contains(l)
                || owner.toLowerCase(java.util.Locale.ROOT).contains(l);
    }
}
