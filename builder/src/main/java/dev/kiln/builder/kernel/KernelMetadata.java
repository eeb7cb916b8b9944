package dev.kiln.builder.kernel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code kernel.json}: what a cache entry holds and how it was made. The SHA-256 here is what a
 * cache hit is verified against.
 *
 * @param compileLines the number of compile steps make reported; the next build's progress bar
 *                     uses it as the expected total
 */
record KernelMetadata(int schema, String sourceVersion, String configHash, int recipeVersion,
                      String kernelRelease, String compiler, String vmlinuxSha256, long vmlinuxBytes,
                      String builtAt, long buildMillis, Map<String, Long> stepMillis, int compileLines) {

    static final int SCHEMA = 1;
    static final String FILE_NAME = "kernel.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static KernelMetadata read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), KernelMetadata.class);
    }

    void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(this) + "\n");
    }
}
