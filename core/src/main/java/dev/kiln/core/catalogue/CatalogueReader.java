package dev.kiln.core.catalogue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads catalogue files (see docs/catalogue.md). The catalogue is data, not code, so it is checked
 * as strictly as user input: every problem names the entry and the field.
 */
public final class CatalogueReader {
    public static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private CatalogueReader() {}

    public static List<RuntimeEntry> read(InputStream in, String sourceName, RuntimeOrigin origin) {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (JsonProcessingException e) {
            throw new CatalogueFormatException(sourceName + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CatalogueFormatException(sourceName + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new CatalogueFormatException(sourceName + ": expected a JSON object");
        int format = root.path("format").asInt(-1);
        if (format != FORMAT) {
            throw new CatalogueFormatException(sourceName + ": format " + root.path("format") + " is not supported (expected " + FORMAT + ")");
        }
        JsonNode runtimes = root.path("runtimes");
        if (!runtimes.isArray()) throw new CatalogueFormatException(sourceName + ": 'runtimes' must be an array");

        List<RuntimeEntry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<ItemHash> hashes = new HashSet<>();
        Set<RuntimeKind> kindsWithDefault = EnumSet.noneOf(RuntimeKind.class);
        for (int i = 0; i < runtimes.size(); i++) {
            String where = sourceName + ": runtimes[" + i + "]";
            RuntimeEntry e = entry(runtimes.get(i), where, origin);
            if (!names.add(e.name())) throw new CatalogueFormatException(where + ".name: '" + e.name() + "' is listed twice");
            if (!hashes.add(e.itemHash())) throw new CatalogueFormatException(where + ".item_hash: " + e.itemHash() + " is listed twice");
            if (e.isDefault() && !kindsWithDefault.add(e.kind())) {
                throw new CatalogueFormatException(where + ".status: a second default for kind " + e.kind().id());
            }
            entries.add(e);
        }
        return List.copyOf(entries);
    }

    private static RuntimeEntry entry(JsonNode n, String where, RuntimeOrigin origin) {
        if (!n.isObject()) throw new CatalogueFormatException(where + ": expected an object");
        String name = requiredText(n, "name", where);
        if (!name.matches("[a-z0-9][a-z0-9._-]*")) {
            throw new CatalogueFormatException(where + ".name: '" + name + "' must be lower-case letters, digits, '.', '_' or '-'");
        }
        ItemHash hash = hash(requiredText(n, "item_hash", where), where + ".item_hash");
        RuntimeKind kind;
        RuntimeStatus status;
        try {
            kind = RuntimeKind.fromId(requiredText(n, "kind", where));
        } catch (IllegalArgumentException e) {
            throw new CatalogueFormatException(where + ".kind: " + e.getMessage());
        }
        try {
            status = RuntimeStatus.fromId(requiredText(n, "status", where));
        } catch (IllegalArgumentException e) {
            throw new CatalogueFormatException(where + ".status: " + e.getMessage());
        }
        List<String> languages = new ArrayList<>();
        n.path("languages").forEach(l -> languages.add(l.asText()));
        Optional<ItemHash> verification = Optional.empty();
        if (n.hasNonNull("verification_hash")) {
            if (kind != RuntimeKind.CONFIDENTIAL_FIRMWARE) {
                throw new CatalogueFormatException(where + ".verification_hash: only confidential firmware has one");
            }
            verification = Optional.of(hash(n.get("verification_hash").asText(), where + ".verification_hash"));
        } else if (kind == RuntimeKind.CONFIDENTIAL_FIRMWARE) {
            throw new CatalogueFormatException(where + ".verification_hash: required for confidential firmware");
        }
        return new RuntimeEntry(name, n.path("title").asText(name), hash, kind, n.path("filesystem").asText(""),
                status, n.path("os").asText(""), languages, verification, origin);
    }

    private static String requiredText(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new CatalogueFormatException(where + "." + field + ": required text field is missing");
        }
        return v.asText();
    }

    private static ItemHash hash(String text, String where) {
        try {
            return ItemHash.parse(text);
        } catch (InvalidItemHashException e) {
            throw new CatalogueFormatException(where + ": " + e.getMessage());
        }
    }
}
