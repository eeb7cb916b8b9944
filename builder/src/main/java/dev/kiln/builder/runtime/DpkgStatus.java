package dev.kiln.builder.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * dpkg's database of installed packages ({@code /var/lib/dpkg/status}), read directly: it is the
 * SBOM's source and tells which packages depend on the ones a spec wants removed.
 */
record DpkgStatus(Map<String, Installed> packages) {

    /**
     * One installed package.
     *
     * @param depends      names this package needs (Depends and Pre-Depends); each inner list is
     *                     one requirement's alternatives
     * @param provides     virtual package names it provides
     * @param installedKib its Installed-Size
     */
    record Installed(String name, String version, String architecture, String source, long installedKib,
                     List<List<String>> depends, List<String> provides, boolean essential) {
    }

    static DpkgStatus parse(String text) {
        Map<String, Installed> packages = new TreeMap<>();
        for (String stanza : text.split("\n\n")) {
            Map<String, String> fields = fields(stanza);
            String status = fields.getOrDefault("Status", "");
            if (!status.endsWith(" installed")) continue;
            String name = fields.get("Package");
            if (name == null) continue;
            String source = fields.getOrDefault("Source", name);
            // "Source: glibc (2.36-9)" carries the source version when it differs.
            int paren = source.indexOf(' ');
            if (paren > 0) source = source.substring(0, paren);
            long kib = 0;
            try {
                kib = Long.parseLong(fields.getOrDefault("Installed-Size", "0").strip());
            } catch (NumberFormatException ignored) {
                // an odd value only makes the size report less precise
            }
            List<List<String>> depends = new ArrayList<>(relations(fields.get("Pre-Depends")));
            depends.addAll(relations(fields.get("Depends")));
            List<String> provides = relations(fields.get("Provides")).stream().map(List::getFirst).toList();
            packages.put(name, new Installed(name, fields.getOrDefault("Version", ""), fields.getOrDefault("Architecture", ""),
                    source, kib, depends, provides, "yes".equals(fields.get("Essential"))));
        }
        return new DpkgStatus(packages);
    }

    /**
     * Packages that stay installed and need one of {@code removed}: a requirement whose every
     * alternative (or every provider of it) is being removed. Empty means removing is safe.
     */
    Map<String, String> dependentsOf(Set<String> removed) {
        Map<String, String> broken = new LinkedHashMap<>();
        for (Installed p : packages.values()) {
            if (removed.contains(p.name())) continue;
            for (List<String> alternatives : p.depends()) {
                boolean satisfied = alternatives.stream().anyMatch(alt -> satisfiedWithout(alt, removed));
                if (!satisfied) {
                    broken.put(p.name(), String.join(" | ", alternatives));
                    break;
                }
            }
        }
        return broken;
    }

    private boolean satisfiedWithout(String name, Set<String> removed) {
        if (packages.containsKey(name) && !removed.contains(name)) return true;
        if (packages.containsKey(name)) return false;
        // Not a real package here: a virtual one, satisfied by any kept provider.
        return packages.values().stream().anyMatch(p -> !removed.contains(p.name()) && p.provides().contains(name));
    }

    private static Map<String, String> fields(String stanza) {
        Map<String, String> fields = new LinkedHashMap<>();
        String key = null;
        for (String line : stanza.split("\n")) {
            if (line.isEmpty()) continue;
            if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && key != null) {
                fields.merge(key, "\n" + line, String::concat);
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) continue;
            key = line.substring(0, colon);
            fields.put(key, line.substring(colon + 1).strip());
        }
        return fields;
    }

    /** "libc6 (>= 2.34), perl | perl-base:any" → [[libc6], [perl, perl-base]]. */
    private static List<List<String>> relations(String value) {
        List<List<String>> out = new ArrayList<>();
        if (value == null || value.isBlank()) return out;
        for (String requirement : value.split(",")) {
            List<String> alternatives = new ArrayList<>();
            for (String alt : requirement.split("\\|")) {
                String name = alt.strip();
                int cut = name.length();
                for (char c : new char[]{' ', '(', ':', '['}) {
                    int i = name.indexOf(c);
                    if (i >= 0 && i < cut) cut = i;
                }
                name = name.substring(0, cut);
                if (!name.isEmpty()) alternatives.add(name);
            }
            if (!alternatives.isEmpty()) out.add(alternatives);
        }
        return out;
    }
}
