package dev.kiln.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code --keep-warm}: a duration the way people write one (90s, 10m, 1h; a bare number is seconds). */
final class KeepWarmOption {
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})\\s*(s|m|h)?");

    private KeepWarmOption() {}

    static Duration parse(String text) {
        Matcher m = FORM.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; write e.g. 90s, 10m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.isZero()) throw new IllegalArgumentException("the keep-warm must be at least 1 second");
        return d;
    }
}
