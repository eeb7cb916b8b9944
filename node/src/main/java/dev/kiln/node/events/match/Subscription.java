package dev.kiln.node.events.match;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of a program's {@code on.message}: a filter that a message matches when every field it
 * names is "equal or included" in the message, aleph-vm's rule (docs/events.md):
 *
 * <ul>
 *   <li>a string matches a message field that is the same string;</li>
 *   <li>an object matches a message field that is an object holding each of its keys, each
 *       matching in turn (so nested filters reach into {@code content});</li>
 *   <li>an empty filter matches nothing (aleph asks for at least one field).</li>
 * </ul>
 *
 * Other values (lists, numbers, booleans, null) make aleph's matcher fail; they are refused when
 * the program is published or resolved ({@link #problems}) rather than silently never matching.
 */
public record Subscription(JsonNode filter) {
    public Subscription {
        Objects.requireNonNull(filter, "filter");
    }

    /** Whether {@code message} (the envelope with its {@code content} as an object) matches. */
    public boolean matches(JsonNode message) {
        return filter.isObject() && !filter.isEmpty() && includes(filter, message);
    }

    private static boolean includes(JsonNode want, JsonNode have) {
        if (want.isTextual()) return have != null && have.isTextual() && have.textValue().equals(want.textValue());
        if (!want.isObject() || have == null || !have.isObject()) return false;
        for (Iterator<Map.Entry<String, JsonNode>> it = want.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!includes(e.getValue(), have.get(e.getKey()))) return false;
        }
        return true;
    }

    /**
     * What is wrong with a filter as written at {@code path} (e.g. {@code content.on.message[0]}):
     * empty, or a value aleph cannot compare. Empty when it can match.
     */
    public static List<String> problems(JsonNode filter, String path) {
        List<String> out = new ArrayList<>();
        if (filter == null || !filter.isObject()) {
            out.add(path + ": a subscription is an object of fields to match, e.g. {\"channel\": \"MY_CHANNEL\"}");
            return out;
        }
        if (filter.isEmpty()) {
            out.add(path + ": an empty subscription matches no message (aleph needs at least one field); set a field"
                    + " such as channel or sender");
            return out;
        }
        collect(filter, path, out);
        return out;
    }

    private static void collect(JsonNode node, String path, List<String> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String at = path + "." + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                if (v.isEmpty()) out.add(at + ": an empty object matches any object there; remove it or set a field in it");
                else collect(v, at, out);
            } else if (v.isArray()) {
                out.add(at + ": aleph matches strings and objects only, not lists; remove the list and write one subscription per value"
                        + " (any of them matching triggers the program)");
            } else if (!v.isTextual()) {
                out.add(at + ": aleph compares strings and objects only, got " + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                        + " " + v + "; set it as a string if the message has a string there");
            }
        }
    }
}
