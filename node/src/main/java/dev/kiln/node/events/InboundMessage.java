package dev.kiln.node.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.IntegrityCheck;
import dev.kiln.core.message.MessageFormatException;
import dev.kiln.core.message.ValidationError;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * A message that came in from a source and passed the checks every source shares: small enough
 * for an event frame, an aleph message, inline, and its {@code item_hash} the SHA-256 of its
 * {@code item_content} (so what is matched and delivered is what was hashed).
 *
 * @param json       the envelope with {@code content} set from {@code item_content}: what is matched
 * @param text       {@code json} as text: what the program receives
 * @param raw        the message as it came, for recording STORE and PROGRAM messages verbatim
 * @param source     where it came from: {@code post} or {@code feed}
 * @param receivedNanos {@link System#nanoTime()} when it arrived, for the delivery latency
 */
public record InboundMessage(ItemHash hash, AlephMessage message, JsonNode json, String text, String raw, String source,
                             Instant received, long receivedNanos) {

    /**
     * Far below the guest's 1 MiB frame, which also carries the event's own fields; aleph refuses
     * inline content above a few hundred KiB anyway.
     */
    public static final int MAX_BYTES = 512 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    public static InboundMessage read(String raw, String source) throws MessageRejectedException {
        long now = System.nanoTime();
        if (raw.length() > MAX_BYTES || raw.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw new MessageRejectedException(MessageRejectedException.Kind.TOO_LARGE, "the message is over "
                    + MAX_BYTES / 1024 + " KiB; a message delivered to programs must fit one event (aleph keeps inline"
                    + " content far smaller): publish large data as a STORE file and send its hash");
        }
        AlephMessage m;
        try {
            m = AlephMessages.parse(raw);
        } catch (MessageFormatException e) {
            throw new MessageRejectedException(MessageRejectedException.Kind.MALFORMED, "not an aleph message: "
                    + e.getMessage());
        }
        if (!"inline".equals(m.itemType())) {
            throw new MessageRejectedException(MessageRejectedException.Kind.UNVERIFIABLE, "item_type is "
                    + (m.itemType() == null ? "missing" : "'" + m.itemType() + "'") + "; the node delivers inline messages"
                    + " only, whose item_content it can check against item_hash before any program sees it");
        }
        List<ValidationError> integrity = IntegrityCheck.verify(m);
        if (!integrity.isEmpty()) {
            throw new MessageRejectedException(MessageRejectedException.Kind.BAD_HASH, "the message does not match its"
                    + " hash: " + integrity.getFirst() + (integrity.size() > 1 ? " (and " + (integrity.size() - 1)
                    + " more)" : ""));
        }
        if (m.sender() == null || m.sender().isBlank() || m.type() == null) {
            throw new MessageRejectedException(MessageRejectedException.Kind.INVALID, "a message needs sender and type");
        }
        ObjectNode json;
        try {
            json = (ObjectNode) JSON.readTree(raw);
            if (!json.path("content").isObject()) json.set("content", JSON.readTree(m.itemContent()));
        } catch (IOException | ClassCastException e) {
            throw new MessageRejectedException(MessageRejectedException.Kind.MALFORMED, "not an aleph message: "
                    + e.getMessage());
        }
        return new InboundMessage(m.hash(), m, json, json.toString(), raw, source, Instant.now(), now);
    }
}
