package dev.kiln.node.console;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The console's only way to put text into HTML: every value a page shows (program names, log
 * lines, paths a client sent) goes through {@link #text} or {@link #attr}, so none of it can open a
 * tag, close an attribute or start a script. Pages are plain Java text blocks around these calls.
 */
final class Html {
    private Html() {
    }

    /** Text content: {@code & < > " '} become entities; control characters (but tab and newline) are dropped. */
    static String text(Object value) {
        if (value == null) return "";
        String s = value.toString();
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                case '`' -> out.append("&#96;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t' || c == 0x7f) continue;
                    out.append(c);
                }
            }
        }
        return out.toString();
    }

    /** An attribute value (always written in double quotes by the pages): the same escaping, newlines too. */
    static String attr(Object value) {
        return text(value).replace("\n", "&#10;").replace("\t", "&#9;");
    }

    /**
     * A URL for an {@code href}: only relative paths of this node (starting with one {@code /}) are
     * allowed, so no value can become {@code javascript:} or point elsewhere; anything else is {@code #}.
     */
    static String href(String path) {
        if (path == null || !path.startsWith("/") || path.startsWith("//") || path.contains("\\")) return "#";
        return attr(path);
    }

    /** One path segment or query value, percent-encoded. */
    static String urlPart(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
