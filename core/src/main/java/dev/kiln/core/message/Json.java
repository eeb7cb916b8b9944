package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one Jackson configuration for aleph JSON, and the helpers that turn its errors into ours. */
final class Json {

    /**
     * Strict on input because what we accept is what the node will run: no duplicate keys (two
     * parsers could disagree on which one counts), no silent coercions ("1" → 1, 1.5 → 1,
     * 32 → "32"), nothing after the document. Floats are read as BigDecimal, trailing zeros and
     * all, so numbers we do not model (unknown fields) are written back with the digits they came
     * with: 1.0 must not come back as 1, which Python would read as an int. Only record fields
     * are properties: helper methods such as {@code isConfidential()} must never leak into JSON.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .visibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
            .visibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
            .visibility(PropertyAccessor.CREATOR, JsonAutoDetect.Visibility.ANY)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.ALWAYS))
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .build();

    /**
     * item_content as aleph's Python client writes it: no whitespace and ASCII only (non-ASCII
     * escaped as \\uXXXX), so the hashed bytes do not depend on anyone's text encoding.
     */
    static final ObjectWriter COMPACT_ASCII = MAPPER.writer().with(JsonWriteFeature.ESCAPE_NON_ASCII);

    private Json() {}

    /**
     * Parses {@code text} that must hold one JSON object; {@code what} names it in errors
     * ({@code item_content}), or is null for a whole message.
     */
    static ObjectNode readObject(String text, String what) {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw syntaxError(what, e);
        }
        if (tree == null || tree.isMissingNode()) {
            throw MessageFormatException.at(what, "empty input: expected a JSON object");
        }
        if (!tree.isObject()) {
            throw MessageFormatException.at(what, "expected a JSON object, got " + describe(tree));
        }
        return (ObjectNode) tree;
    }

    /** Binds {@code tree} to a record; type errors name the field under {@code path}. */
    static <T> T bind(JsonNode tree, Class<T> type, String path) {
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            throw typeError(tree, path, e);
        } catch (JsonProcessingException e) {
            throw new MessageFormatException(path, e.getOriginalMessage(), -1, -1, e);
        }
    }

    static ObjectNode toTree(Object value) {
        return MAPPER.valueToTree(value);
    }

    static String compact(Object value) {
        try {
            return COMPACT_ASCII.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    static String write(JsonNode tree, boolean pretty) {
        try {
            return pretty ? MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(tree) : MAPPER.writeValueAsString(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    /** Short human description of a JSON value for error messages: {@code a string ("abc")}. */
    static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) return "nothing";
        if (node.isNull()) return "null";
        if (node.isBoolean()) return node.asText();
        if (node.isNumber()) return "a number (" + node.asText() + ")";
        if (node.isTextual()) return "a string (" + quote(node.asText()) + ")";
        if (node.isArray()) return "an array";
        return "an object";
    }

    static String quote(String s) {
        String shown = s.length() <= 60 ? s : s.substring(0, 57) + "...";
        return "\"" + shown.replace("\"", "\\\"") + "\"";
    }

    // ---- record plumbing: every record copies what it is given so it cannot change afterwards ----

    static Map<String, JsonNode> copyUnknown(Map<String, JsonNode> fields) {
        if (fields == null || fields.isEmpty()) return Map.of();
        Map<String, JsonNode> copy = new LinkedHashMap<>();
        fields.forEach((k, v) -> copy.put(k, v == null ? NullNode.getInstance() : v.deepCopy()));
        return Collections.unmodifiableMap(copy);
    }

    /** Null stays null (absent on the wire); null elements are kept for the validator to report. */
    static <T> List<T> copyList(Collection<T> list) {
        return list == null ? null : Collections.unmodifiableList(new ArrayList<>(list));
    }

    static <K, V> Map<K, V> copyMap(Map<K, V> map) {
        return map == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    static JsonNode copyNode(JsonNode node) {
        return node == null ? null : node.deepCopy();
    }

    // ---- errors ----

    static MessageFormatException syntaxError(String what, JsonProcessingException e) {
        JsonLocation loc = e.getLocation();
        int line = loc == null ? -1 : loc.getLineNr();
        int column = loc == null ? -1 : loc.getColumnNr();
        String where = line > 0 ? " at line " + line + ", column " + column : "";
        if (e instanceof StreamConstraintsException) {
            return new MessageFormatException(what, "too large" + where + ": " + limitExceeded(e.getOriginalMessage()),
                    line, column, e);
        }
        return new MessageFormatException(what, "malformed JSON" + where + ": " + e.getOriginalMessage(), line, column, e);
    }

    private static final Pattern LIMIT = Pattern.compile(
            "\\((\\d+)\\) exceeds the maximum allowed \\((\\d+), from `StreamReadConstraints\\.getMax(\\w+)\\(\\)`\\)");

    /**
     * Jackson names its limits by the Java method that holds them ("from
     * `StreamReadConstraints.getMaxStringLength()`"); a message's author needs the limit in words.
     */
    static String limitExceeded(String jackson) {
        Matcher m = jackson == null ? null : LIMIT.matcher(jackson);
        if (m == null || !m.find()) return "the input exceeds a parser limit";
        String found = m.group(1);
        String max = m.group(2);
        return switch (m.group(3)) {
            case "StringLength" -> "a string of " + found + " characters; at most " + max + " are allowed";
            case "NestingDepth" -> "values nested " + found + " levels deep; at most " + max + " levels are allowed";
            case "NumberLength" -> "a number of " + found + " digits; at most " + max + " are allowed";
            case "NameLength" -> "a field name of " + found + " characters; at most " + max + " are allowed";
            case "DocumentLength" -> "a document of " + found + " bytes; at most " + max + " are allowed";
            case "TokenCount" -> found + " JSON tokens; at most " + max + " are allowed";
            default -> "a value of size " + found + " where at most " + max + " is allowed";
        };
    }

    private static MessageFormatException typeError(JsonNode tree, String prefix, JsonMappingException e) {
        StringBuilder path = new StringBuilder(prefix);
        JsonNode node = tree;
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append('.').append(ref.getFieldName());
                node = node == null ? null : node.get(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
                node = node == null ? null : node.get(ref.getIndex());
            }
        }
        String reason;
        Class<?> target = e instanceof MismatchedInputException m ? m.getTargetType()
                : e.getCause() instanceof InputCoercionException c ? c.getTargetType()
                : null;
        String expected = target == null ? null : expected(target);
        if (expected == null || describe(node).startsWith(expected)) {
            reason = e.getOriginalMessage(); // not a plain type mismatch: Jackson's own words are the best we have
        } else if (expected.equals("an integer") && node != null && node.isIntegralNumber()) {
            reason = "integer out of range: " + node.asText();
        } else {
            reason = "expected " + expected + ", got " + describe(node);
        }
        return new MessageFormatException(path.toString(), reason, -1, -1, e);
    }

    private static String expected(Class<?> type) {
        if (type == Integer.class || type == Long.class || type == int.class || type == long.class
                || type == BigInteger.class) return "an integer";
        if (type == BigDecimal.class || type == Double.class || type == double.class) return "a number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (Collection.class.isAssignableFrom(type) || type.isArray()) return "an array";
        return "an object";
    }
}
