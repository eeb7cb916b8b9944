package dev.kiln.builder.runtime;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads runtime spec files (YAML, docs/runtimes.md) and knows the official specs bundled with
 * Kiln. A spec is user input: {@link SpecReader} checks it field by field, reports every problem
 * with the field's path, all at once, and refuses unknown keys (a typo must not silently fall back
 * to a default).
 */
public final class RuntimeSpecs {

    /** The official specs, in the order {@code kiln runtime list} shows them; the first is the default. */
    private static final List<String> OFFICIAL = List.of("debian-12-python", "debian-11-python", "debian-12-node", "minimal",
            "debian-12-instance", "debian-11-instance", "ubuntu-22.04-instance", "debian-12-cloud");
    private static final String OFFICIAL_RESOURCES = "official/";
    public static final String EXTENSION = ".yaml";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private RuntimeSpecs() {
    }

    /** Names of the official specs; the first is the default runtime. */
    public static List<String> officialNames() {
        return OFFICIAL;
    }

    /** Names of the official specs of one kind ({@link RuntimeSpec#FUNCTION}, {@link RuntimeSpec#INSTANCE_ROOTFS}). */
    public static List<String> officialNames(String kind) {
        return OFFICIAL.stream().filter(n -> official(n).kind().equals(kind)).toList();
    }

    /** True if {@code name} is one of {@link #officialNames()}. */
    public static boolean isOfficial(String name) {
        return OFFICIAL.contains(name);
    }

    /**
     * An official spec by name, read from the copy bundled in the builder jar (the same files as
     * {@code runtimes/*.yaml} in the repository).
     *
     * @throws RuntimeSpecException if there is no official spec of that name
     */
    public static RuntimeSpec official(String name) {
        if (!isOfficial(name)) {
            throw new RuntimeSpecException("'" + name + "'", "there is no official runtime spec of that name; official specs: "
                    + String.join(", ", OFFICIAL) + " (or give the path of a spec file)");
        }
        String resource = OFFICIAL_RESOURCES + name + EXTENSION;
        try (InputStream in = RuntimeSpecs.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("the builder jar lacks dev/kiln/builder/runtime/" + resource);
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "official spec " + name, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a spec file; {@code files[].source} entries resolve against its directory.
     *
     * @throws RuntimeSpecException if the file is missing, unreadable or not a valid spec
     */
    public static RuntimeSpec parse(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new RuntimeSpecException(file.toString(), "no such file (give a spec file's path or one of the official names: "
                    + String.join(", ", OFFICIAL) + ")");
        } catch (IOException e) {
            throw new RuntimeSpecException(file.toString(), "cannot read the file: " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().normalize().getParent();
        return parse(text, file.toString(), dir);
    }

    /** A spec given as YAML text; {@code source} names it in errors, {@code directory} may be null. */
    public static RuntimeSpec parse(String yaml, String source, Path directory) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
            throw new RuntimeSpecException(source, "not valid YAML" + where + ": " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode() || !root.isObject()) {
            throw new RuntimeSpecException(source, "expected a YAML mapping with at least 'spec: " + RuntimeSpec.FORMAT
                    + "', 'name' and 'base' (see docs/runtimes.md)");
        }
        return new SpecReader(source, directory).read(root);
    }

}
