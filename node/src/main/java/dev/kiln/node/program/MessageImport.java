package dev.kiln.node.program;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.ExecutableContent;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.MessageContent;
import dev.kiln.core.message.MessageFormatException;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.ValidationError;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.records.RecordsException;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code kiln message publish}: a PROGRAM or INSTANCE message written by hand or taken from aleph,
 * checked whole, each of its references resolved to a verified local file (from this node's store
 * or a remote), then recorded exactly as written, so the node runs it by its item hash.
 *
 * <p>A whole message (with {@code item_hash}) keeps its hash. Content alone (the object that would
 * be {@code content}) is wrapped in an unsigned inline message from its {@code address}, as
 * {@code kiln program create} writes them. Fields the node refuses do not stop the recording —
 * the message is valid for aleph — but are returned, so the user hears of them now.
 */
public final class MessageImport {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What was recorded; {@code known} if this exact message was recorded before. */
    public record Imported(ItemHash hash, MessageType type, List<ResolvedItem> references,
                           List<ProgramContract.Refusal> refusals, boolean known) {
    }

    private final ProgramRecords programs;
    private final ProgramResolver resolver;

    public MessageImport(ProgramRecords programs, ProgramResolver resolver) {
        this.programs = programs;
        this.resolver = resolver;
    }

    /** @param name a local name for {@code kiln program list}, or null */
    public Imported publish(String json, String name) throws NodeException {
        AlephMessage m = read(json);
        String recorded = isWholeMessage(json) ? json : AlephMessages.toJson(m);
        List<ValidationError> errors = AlephMessages.check(m);
        if (!errors.isEmpty()) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "the message is invalid: " + errors.getFirst()
                    + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more, see details)" : ""),
                    errors.stream().map(e -> new NodeException.Detail(e.path(), e.reason())).toList(), null);
        }
        MessageType type = m.messageType().orElse(null);
        if (type != MessageType.PROGRAM && type != MessageType.INSTANCE) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "a " + m.type() + " message is not run by a node;"
                    + " publish PROGRAM or INSTANCE messages here (files go in with 'kiln store publish')");
        }
        ExecutableContent content;
        try {
            content = type == MessageType.PROGRAM ? m.contentAs(ProgramContent.class) : m.contentAs(InstanceContent.class);
        } catch (RuntimeException e) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "the message carries no content to run (item_type "
                    + m.itemType() + "): give a message with its content inline", e);
        }
        List<ResolvedItem> references = resolver.references(content);
        List<ProgramContract.Refusal> refusals = content instanceof ProgramContent p ? ProgramContract.refusals(p) : List.of();
        ItemHash hash = m.hash();
        try {
            boolean known = programs.find(hash).isPresent();
            if (!known) programs.add(new ProgramRecord(hash, m.sender(), name, Instant.now(), recorded));
            return new Imported(hash, type, references, refusals, known);
        } catch (RecordsException e) {
            throw new NodeException(ErrorCode.INTERNAL, "the node's program records cannot be written: " + e.getMessage(), e);
        }
    }

    private static AlephMessage read(String json) throws NodeException {
        try {
            if (isWholeMessage(json)) return AlephMessages.parse(json);
            JsonNode content = JSON.readTree(json);
            MessageType type = content.has("rootfs") ? MessageType.INSTANCE : MessageType.PROGRAM;
            MessageContent c = AlephMessages.parseContent(type, json);
            ExecutableContent e = (ExecutableContent) c;
            if (e.address() == null || e.time() == null) {
                throw new NodeException(ErrorCode.INVALID_PROGRAM, "content alone needs its address and time (the"
                        + " message is made from them); or give the whole message with item_hash");
            }
            Instant time = Instant.ofEpochSecond(0, e.time().movePointRight(9).longValue());
            return AlephMessage.inline(ProgramPublisher.CHAIN, e.address(), ProgramPublisher.CHANNEL, c, time);
        } catch (MessageFormatException e) {
            String path = e.path() == null ? "(message)" : e.path();
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "the message cannot be read: " + e.getMessage(),
                    List.of(new NodeException.Detail(path, e.reason())), e);
        } catch (IOException | ClassCastException e) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "the file is not a PROGRAM or INSTANCE message nor"
                    + " its content: " + e.getMessage(), e);
        }
    }

    /** A message has {@code item_hash}; its content alone does not. */
    private static boolean isWholeMessage(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return n != null && n.isObject() && n.has("item_hash");
        } catch (IOException e) {
            return false;
        }
    }

    /** The refusals as lines for a terminal. */
    public static List<String> warnings(Imported imported) {
        List<String> out = new ArrayList<>();
        for (ProgramContract.Refusal r : imported.refusals()) out.add("a Kiln node refuses " + r);
        if (imported.type() == MessageType.INSTANCE) {
            out.add("/vm/<hash> runs PROGRAM messages; an INSTANCE is recorded for the node's instance support");
        }
        return out;
    }
}
