package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Envelope JSON ↔ {@link AlephMessage}, by hand rather than by data binding because the content's
 * record depends on a sibling field ({@code type}) and may come from item_content instead.
 */
final class EnvelopeCodec {
    private EnvelopeCodec() {}

    static AlephMessage fromTree(ObjectNode root) {
        ObjectNode rest = root.deepCopy();
        String chain = text(rest, "chain");
        String sender = text(rest, "sender");
        String type = text(rest, "type");
        String channel = text(rest, "channel");
        String itemType = text(rest, "item_type");
        String itemContent = text(rest, "item_content");
        String itemHash = text(rest, "item_hash");
        String hashType = text(rest, "hash_type");
        String signature = text(rest, "signature");
        BigDecimal time = number(rest, "time");
        Boolean confirmed = bool(rest, "confirmed");
        JsonNode confirmations = rest.remove("confirmations");
        Long size = integer(rest, "size");
        JsonNode contentNode = rest.remove("content");

        MessageContent content = null;
        boolean inEnvelope = false;
        if (contentNode != null && !contentNode.isNull()) {
            if (!contentNode.isObject()) {
                throw MessageFormatException.at("content", "expected an object, got " + Json.describe(contentNode));
            }
            content = ContentCodec.read(type, (ObjectNode) contentNode, "content");
            inEnvelope = true;
        } else if (itemContent != null && ItemType.INLINE.wire().equals(itemType)) {
            // The usual shape of a message being submitted: only the hashed text, no parsed copy.
            content = ContentCodec.read(type, Json.readObject(itemContent, "item_content"), "item_content");
        }

        Map<String, JsonNode> unknown = new LinkedHashMap<>();
        rest.properties().forEach(e -> unknown.put(e.getKey(), e.getValue()));
        return new AlephMessage(chain, sender, type, channel, itemType, itemContent, itemHash, hashType,
                signature, time, content, inEnvelope, confirmed, confirmations, size, unknown);
    }

    static ObjectNode toTree(AlephMessage m) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        putText(out, "chain", m.chain());
        putText(out, "item_hash", m.itemHash());
        putText(out, "sender", m.sender());
        putText(out, "type", m.type());
        putText(out, "channel", m.channel());
        if (m.confirmed() != null) out.put("confirmed", m.confirmed());
        if (m.contentInEnvelope() && m.content() != null) out.set("content", ContentCodec.toTree(m.content()));
        putText(out, "item_content", m.itemContent());
        putText(out, "item_type", m.itemType());
        putText(out, "hash_type", m.hashType());
        putText(out, "signature", m.signature());
        if (m.size() != null) out.put("size", m.size());
        if (m.time() != null) out.put("time", m.time());
        if (m.confirmations() != null) out.set("confirmations", m.confirmations().deepCopy());
        m.unknownFields().forEach((k, v) -> out.set(k, v.deepCopy()));
        return out;
    }

    private static void putText(ObjectNode out, String field, String value) {
        if (value != null) out.put(field, value);
    }

    // Explicit nulls read as absent, as pydantic's Optional fields do.

    private static String text(ObjectNode o, String field) {
        JsonNode v = o.remove(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw MessageFormatException.at(field, "expected a string, got " + Json.describe(v));
        return v.textValue();
    }

    private static BigDecimal number(ObjectNode o, String field) {
        JsonNode v = o.remove(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw MessageFormatException.at(field, "expected a number, got " + Json.describe(v));
        return v.decimalValue();
    }

    private static Long integer(ObjectNode o, String field) {
        JsonNode v = o.remove(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw MessageFormatException.at(field, "expected an integer, got " + Json.describe(v));
        }
        return v.longValue();
    }

    private static Boolean bool(ObjectNode o, String field) {
        JsonNode v = o.remove(field);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw MessageFormatException.at(field, "expected true or false, got " + Json.describe(v));
        return v.booleanValue();
    }
}
