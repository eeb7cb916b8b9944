package dev.kiln.builder.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code build.json}: how one cache entry was made (when, how long each step took). Kept apart from
 * the manifest, which must be the same for every build of a spec.
 */
record BuildRecord(int schema, String key, String builtAt, long buildMillis, Map<String, Long> stepMillis) {

    static final int SCHEMA = 1;
    static final String FILE_NAME = "build.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    static BuildRecord read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), BuildRecord.class);
    }

    void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(this) + "\n");
    }
}
