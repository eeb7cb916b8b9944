package dev.kiln.core.message;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The aleph message fixtures in the repository's {@code fixtures/aleph-messages}, found whatever
 * directory the tests run in. Missing fixtures fail the test: a skipped fixture
 * test would pass while checking nothing.
 */
final class Fixtures {
    static final List<String> NAMES = List.of("program.json", "instance.json", "qemu.json", "confidential_instance.json");

    /** Independent of the code under test; floats as BigDecimal so re-serialised text keeps its digits. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();

    private Fixtures() {}

    static Path dir() {
        Path root = repoRoot();
        Path dir = root.resolve("fixtures/aleph-messages");
        if (!Files.isDirectory(dir)) {
            fail("aleph message fixtures not found at " + dir + ": they are expected in fixtures/aleph-messages"
                    + " of the repository " + root);
        }
        for (String name : NAMES) {
            if (!Files.isRegularFile(dir.resolve(name)) || !Files.isRegularFile(dir.resolve("placeholder-hashes").resolve(name))) {
                fail("fixture " + name + " missing from " + dir + " or its placeholder-hashes/ directory");
            }
        }
        return dir;
    }

    /** The nearest directory up from the working directory that holds the reactor pom and core/. */
    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("core")))) {
            p = p.getParent();
        }
        if (p == null) fail("cannot find the repository root (pom.xml beside core/) above " + Path.of("").toAbsolutePath());
        return p;
    }

    static String text(String name) {
        return read(dir().resolve(name));
    }

    static String placeholder(String name) {
        return read(dir().resolve("placeholder-hashes").resolve(name));
    }

    static ObjectNode tree(String name) {
        return parseTree(text(name));
    }

    static ObjectNode parseTree(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes a hand-edited message self-consistent again: item_content = compact content, item_hash = its SHA-256. */
    static ObjectNode rehash(ObjectNode message) {
        String itemContent = write(message.get("content"));
        message.put("item_content", itemContent);
        message.put("item_hash", sha256Hex(itemContent));
        return message;
    }

    static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Sets the value at a JSON pointer such as {@code /content/volumes/1/mount}; the parent must exist. */
    static void set(ObjectNode root, String pointer, JsonNode value) {
        JsonPointer p = JsonPointer.compile(pointer);
        JsonNode parent = root.at(p.head());
        String last = p.last().getMatchingProperty();
        if (parent instanceof ArrayNode array) {
            int index = Integer.parseInt(last);
            if (index == array.size()) array.add(value);
            else array.set(index, value);
        } else if (parent instanceof ObjectNode object) {
            object.set(last, value);
        } else {
            throw new IllegalArgumentException("no object or array at " + p.head() + " in " + pointer);
        }
    }

    static void remove(ObjectNode root, String pointer) {
        JsonPointer p = JsonPointer.compile(pointer);
        JsonNode parent = root.at(p.head());
        String last = p.last().getMatchingProperty();
        if (parent instanceof ArrayNode array) {
            array.remove(Integer.parseInt(last));
        } else if (parent instanceof ObjectNode object && object.has(last)) {
            object.remove(last);
        } else {
            throw new IllegalArgumentException("nothing to remove at " + pointer);
        }
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
