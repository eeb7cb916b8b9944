package dev.kiln.core.message;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Content JSON ↔ records. The envelope's type picks the record: aleph content carries no type tag of its own. */
final class ContentCodec {
    private ContentCodec() {}

    static MessageContent read(String messageType, ObjectNode tree, String path) {
        return switch (MessageType.fromWire(messageType).orElse(null)) {
            case PROGRAM -> Json.bind(tree, ProgramContent.class, path);
            case INSTANCE -> Json.bind(tree, InstanceContent.class, path);
            case STORE -> Json.bind(tree, StoreContent.class, path);
            case null -> new OtherContent(tree);
        };
    }

    static ObjectNode toTree(MessageContent content) {
        return content instanceof OtherContent other ? other.json().deepCopy() : Json.toTree(content);
    }

    /** The item_content form: compact, ASCII-only JSON. */
    static String compact(MessageContent content) {
        return content instanceof OtherContent other ? Json.compact(other.json()) : Json.compact(content);
    }
}
