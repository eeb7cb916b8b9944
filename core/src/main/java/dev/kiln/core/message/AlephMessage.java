package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An aleph message envelope. {@code itemContent} is kept as the exact string that was hashed, and
 * {@code itemHash}, {@code type} and {@code itemType} as sent, so a wrong message still parses and
 * {@link MessageValidator} / {@link IntegrityCheck} can say what is wrong with it.
 *
 * <p>{@code content} is the parsed content: the envelope's {@code content} object when present
 * ({@code contentInEnvelope}), otherwise parsed from an inline {@code item_content}. It is null
 * only when neither is there. Node metadata ({@code confirmed}, {@code confirmations},
 * {@code size}) is carried but not trusted: none of it is covered by the item hash.
 *
 * @param unknownFields envelope fields Kiln does not model (e.g. {@code _id}), written back as is
 */
public record AlephMessage(
        String chain,
        String sender,
        String type,
        String channel,
        String itemType,
        String itemContent,
        String itemHash,
        String hashType,
        String signature,
        BigDecimal time,
        MessageContent content,
        boolean contentInEnvelope,
        Boolean confirmed,
        JsonNode confirmations,
        Long size,
        Map<String, JsonNode> unknownFields) {

    public AlephMessage {
        confirmations = Json.copyNode(confirmations);
        unknownFields = Json.copyUnknown(unknownFields);
    }

    /**
     * A new inline message: item_content is the compact JSON of {@code content} and item_hash its
     * SHA-256, so the result passes {@link IntegrityCheck}. The type follows from the content.
     * Unsigned: {@code signature} is left absent for the publisher to add.
     */
    public static AlephMessage inline(String chain, String sender, String channel, MessageContent content, Instant time) {
        Objects.requireNonNull(content, "content");
        MessageType type = switch (content) {
            case ProgramContent _ -> MessageType.PROGRAM;
            case InstanceContent _ -> MessageType.INSTANCE;
            case StoreContent _ -> MessageType.STORE;
            case OtherContent _ -> throw new IllegalArgumentException(
                    "Kiln creates PROGRAM, INSTANCE and STORE messages only");
        };
        String itemContent = ContentCodec.compact(content);
        String hash = ItemHash.sha256Of(itemContent.getBytes(StandardCharsets.UTF_8)).value();
        return new AlephMessage(chain, sender, type.wire(), channel, ItemType.INLINE.wire(), itemContent, hash,
                null, null, AlephTime.of(time), content, true, null, null, null, Map.of());
    }

    public Optional<MessageType> messageType() {
        return MessageType.fromWire(type);
    }

    public Optional<ItemType> knownItemType() {
        return ItemType.fromWire(itemType);
    }

    public boolean isInline() {
        return ItemType.INLINE.wire().equals(itemType);
    }

    /** The message's identity. Throws {@link dev.kiln.core.hash.InvalidItemHashException} if malformed. */
    public ItemHash hash() {
        return ItemHash.parse(itemHash);
    }

    /** The content as {@code kind}, e.g. {@code contentAs(ProgramContent.class)}. */
    public <T extends MessageContent> T contentAs(Class<T> kind) {
        if (!kind.isInstance(content)) {
            throw new IllegalStateException("message " + itemHash + " of type " + type + " has no "
                    + kind.getSimpleName() + (content == null ? " (no content)" : ""));
        }
        return kind.cast(content);
    }
}
