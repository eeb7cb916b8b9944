package dev.kiln.core.message;

import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Collects {@link ValidationError}s while walking a message. Each instance is a cursor on a field
 * path; {@link #at} moves the cursor and shares the same error list, so rules written for a nested
 * object need not know where that object sits in the message.
 */
public final class Validation {
    private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Beyond this a time is far more likely milliseconds (≈ year 5138 in seconds) than a date. */
    private static final BigDecimal LATEST_PLAUSIBLE_SECONDS = new BigDecimal("1e11");

    private final List<ValidationError> errors;
    private final String path;

    private Validation(List<ValidationError> errors, String path) {
        this.errors = errors;
        this.path = path;
    }

    public static Validation root() {
        return new Validation(new ArrayList<>(), "");
    }

    public Validation at(String field) {
        return new Validation(errors, path.isEmpty() ? field : path + "." + field);
    }

    public Validation at(int index) {
        return new Validation(errors, path + "[" + index + "]");
    }

    /** A map key: plain keys read as fields, others are quoted so the path stays unambiguous. */
    public Validation atKey(String key) {
        return SIMPLE_KEY.matcher(key).matches() ? at(key) : new Validation(errors, path + "[\"" + key + "\"]");
    }

    public String path() {
        return path;
    }

    public void fail(String reason) {
        errors.add(new ValidationError(path.isEmpty() ? "(message)" : path, reason));
    }

    public boolean isValid() {
        return errors.isEmpty();
    }

    public List<ValidationError> errors() {
        return List.copyOf(errors);
    }

    // ---- rules shared by the message, content and volume checks ----

    /** Fails with "required" if the value is absent or a blank string; true when present. */
    boolean required(Object value) {
        return required(value, "required");
    }

    boolean required(Object value, String reason) {
        if (value == null || value instanceof String s && s.isBlank()) {
            fail(reason);
            return false;
        }
        return true;
    }

    /** Absent is fine; present must parse as an item hash. */
    void itemHash(String value) {
        if (value == null) return;
        try {
            ItemHash.parse(value);
        } catch (InvalidItemHashException e) {
            fail(e.getMessage());
        }
    }

    void requiredItemHash(String value) {
        if (required(value)) itemHash(value);
    }

    /** Absent is fine; present must be one of {@code allowed} (the wire spellings). */
    void oneOf(String value, Collection<String> allowed) {
        if (value != null && !allowed.contains(value)) {
            fail("must be one of " + String.join(", ", allowed) + "; got '" + value + "'");
        }
    }

    /** Absent is fine; present must lie in [min, max]; {@code unitHint} explains the unit when too large. */
    void range(Number value, long min, long max, String unitHint) {
        if (value == null) return;
        long v = value.longValue();
        if (v < min) {
            fail("must be ≥ " + min + ", got " + v);
        } else if (v > max) {
            fail("must be ≤ " + max + (unitHint.isEmpty() ? "" : " " + unitHint) + ", got " + v);
        }
    }

    /** A Unix time in seconds, as aleph writes it (a float with fractional seconds). */
    void epochSeconds(BigDecimal time) {
        if (!required(time)) return;
        if (time.signum() < 0) {
            fail("must be ≥ 0 (seconds since 1970-01-01 UTC), got " + time.toPlainString());
        } else if (time.compareTo(LATEST_PLAUSIBLE_SECONDS) > 0) {
            fail("must be in seconds since 1970-01-01 UTC; " + time.toPlainString() + " looks like milliseconds");
        }
    }
}
