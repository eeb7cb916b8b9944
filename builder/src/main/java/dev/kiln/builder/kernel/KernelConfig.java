package dev.kiln.builder.kernel;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kconfig option values, parsed from a {@code .config} or a config fragment (same syntax):
 * {@code CONFIG_X=value} sets a value, {@code # CONFIG_X is not set} sets it to {@code n}, any
 * other comment or blank line is ignored. An option that does not appear at all is also {@code n}
 * (Kconfig omits options whose menu is invisible).
 */
record KernelConfig(Map<String, String> values) {

    static final String NOT_SET = "n";

    private static final Pattern ASSIGNMENT = Pattern.compile("(CONFIG_[A-Za-z0-9_]+)=(.*)");
    private static final Pattern UNSET = Pattern.compile("# (CONFIG_[A-Za-z0-9_]+) is not set");

    KernelConfig {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /**
     * Parses config text. A line that is neither an option, a comment nor blank is an error: a
     * fragment with a typo would otherwise be silently half-applied.
     */
    static KernelConfig parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            Matcher set = ASSIGNMENT.matcher(line);
            Matcher unset = UNSET.matcher(line);
            if (set.matches()) {
                values.put(set.group(1), set.group(2));
            } else if (unset.matches()) {
                values.put(unset.group(1), NOT_SET);
            } else if (!line.isEmpty() && !line.startsWith("#")) {
                throw new IllegalArgumentException("line " + (i + 1) + " is not a Kconfig option: " + line);
            }
        }
        return new KernelConfig(values);
    }

    /** The option's value; {@code n} when it is unset or absent. */
    String valueOf(String option) {
        return values.getOrDefault(option, NOT_SET);
    }

    /** How a value is written back in a .config line, for messages. */
    static String describe(String option, String value) {
        return NOT_SET.equals(value) ? option + " is not set" : option + "=" + value;
    }
}
