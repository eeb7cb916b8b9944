package dev.kiln.store.records;

import java.util.List;

/**
 * One step of the schema, applied when the database's {@code PRAGMA user_version} is below
 * {@code version}. Steps are never edited once released; a change is a new step.
 */
public record Migration(int version, List<String> statements) {
    public Migration(int version, String... statements) {
        this(version, List.of(statements));
    }
}
