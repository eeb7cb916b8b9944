package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where two JSON trees differ, so "content does not match item_content" can say at which field.
 * Numbers compare by value: 512 and 512.0 are the same to aleph's Python, and to us.
 */
final class JsonDiff {
    record Difference(String path, JsonNode left, JsonNode right) {}

    private JsonDiff() {}

    static List<Difference> between(JsonNode left, JsonNode right, String path, int limit) {
        List<Difference> out = new ArrayList<>();
        walk(left, right, path, out, limit);
        return out;
    }

    private static void walk(JsonNode a, JsonNode b, String path, List<Difference> out, int limit) {
        if (out.size() >= limit) return;
        if (a != null && b != null && a.isObject() && b.isObject()) {
            Set<String> keys = new LinkedHashSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) walk(a.get(k), b.get(k), path + "." + k, out, limit);
        } else if (a != null && b != null && a.isArray() && b.isArray()) {
            int n = Math.max(a.size(), b.size());
            for (int i = 0; i < n; i++) walk(a.get(i), b.get(i), path + "[" + i + "]", out, limit);
        } else if (!same(a, b)) {
            out.add(new Difference(path, a, b));
        }
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        if (a.isNumber() && b.isNumber()) return a.decimalValue().compareTo(b.decimalValue()) == 0;
        return a.equals(b);
    }

    /** {@code 512} / {@code "qemu"} / {@code absent}, short enough for one line. */
    static String show(JsonNode node) {
        if (node == null) return "absent";
        String text = node.toString();
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }

    static String describe(List<Difference> diffs, int shown, String leftName, String rightName) {
        StringBuilder sb = new StringBuilder();
        Iterator<Difference> it = diffs.iterator();
        for (int i = 0; i < shown && it.hasNext(); i++) {
            Difference d = it.next();
            if (i > 0) sb.append("; ");
            sb.append(d.path()).append(" is ").append(show(d.left())).append(" in ").append(leftName)
                    .append(" but ").append(show(d.right())).append(" in ").append(rightName);
        }
        if (diffs.size() > shown) sb.append("; and more");
        return sb.toString();
    }
}
