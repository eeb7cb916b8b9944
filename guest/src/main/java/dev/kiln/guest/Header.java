package dev.kiln.guest;

import java.util.Objects;

/** One HTTP header; names and values are byte strings carried as ISO-8859-1 text. */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
