package dev.kiln.core.message;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** The entry point for other modules: read, write and check aleph messages. */
public final class AlephMessages {
    private AlephMessages() {}

    /**
     * Parses one message. Throws {@link MessageFormatException} for malformed JSON (with line and
     * column) or a value of the wrong JSON type (with its field path); anything else parses, and
     * {@link #check} tells what is wrong with it.
     */
    public static AlephMessage parse(String json) {
        return EnvelopeCodec.fromTree(Json.readObject(json, null));
    }

    /** Compact JSON; {@code parse(toJson(m))} equals {@code m}, and unknown fields are written back. */
    public static String toJson(AlephMessage message) {
        return Json.write(EnvelopeCodec.toTree(message), false);
    }

    public static String toPrettyJson(AlephMessage message) {
        return Json.write(EnvelopeCodec.toTree(message), true);
    }

    /** Parses a content object on its own, e.g. a PROGRAM content file written by a user. */
    public static MessageContent parseContent(MessageType type, String json) {
        ObjectNode tree = Json.readObject(json, "content");
        return ContentCodec.read(type.wire(), tree, "content");
    }

    /** Content as item_content is written: compact, ASCII-only JSON. */
    public static String contentToJson(MessageContent content) {
        return ContentCodec.compact(content);
    }

    /** Everything wrong with a message: {@link MessageValidator} then {@link IntegrityCheck}. */
    public static List<ValidationError> check(AlephMessage message) {
        List<ValidationError> errors = new ArrayList<>(MessageValidator.validate(message));
        errors.addAll(IntegrityCheck.verify(message));
        return List.copyOf(errors);
    }

    /** The message if {@link #check} finds nothing; otherwise an exception listing every problem. */
    public static AlephMessage requireValid(AlephMessage message) {
        List<ValidationError> errors = check(message);
        if (!errors.isEmpty()) {
            throw new InvalidMessageException("message " + message.itemHash(), errors);
        }
        return message;
    }
}
