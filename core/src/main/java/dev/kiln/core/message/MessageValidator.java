package dev.kiln.core.message;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks that a parsed message is one Kiln can act on, and reports every problem with its field
 * path and what to fix. It does not check hashes: that is {@link IntegrityCheck}'s job, so a
 * message with sound content but a forged envelope is valid here and refused there.
 */
public final class MessageValidator {
    /** aleph types that exist but that Kiln neither runs nor reads. */
    private static final Set<String> OTHER_ALEPH_TYPES = Set.of("POST", "AGGREGATE", "FORGET");

    private MessageValidator() {}

    public static List<ValidationError> validate(AlephMessage message) {
        Validation v = Validation.root();
        envelope(message, v);
        content(message, v.at("content"));
        return v.errors();
    }

    private static void envelope(AlephMessage m, Validation v) {
        v.at("chain").required(m.chain(), "required: the chain whose key signed the message, e.g. ETH");
        v.at("sender").required(m.sender(), "required: the address that signed the message");
        messageType(m.type(), v.at("type"));
        Validation itemType = v.at("item_type");
        if (itemType.required(m.itemType(), "required: inline, storage or ipfs")) {
            itemType.oneOf(m.itemType(), ItemType.WIRE_NAMES);
        }
        v.at("time").epochSeconds(m.time());
        if (Boolean.TRUE.equals(m.confirmed()) && isEmpty(m.confirmations())) {
            v.at("confirmations").fail("required when confirmed is true: the chain transactions that confirm it");
        }
    }

    private static void messageType(String type, Validation at) {
        if (!at.required(type, "required: PROGRAM, INSTANCE or STORE")) return;
        if (MessageType.fromWire(type).isPresent()) return;
        if (OTHER_ALEPH_TYPES.contains(type)) {
            at.fail("'" + type + "' messages are not handled by Kiln: it runs PROGRAM and INSTANCE messages and reads STORE messages");
        } else if (MessageType.fromWire(type.toUpperCase(Locale.ROOT)).isPresent()) {
            at.fail("unknown message type '" + type + "': message types are upper-case ('" + type.toUpperCase(Locale.ROOT) + "')");
        } else {
            at.fail("unknown message type '" + type + "' (expected PROGRAM, INSTANCE or STORE)");
        }
    }

    private static void content(AlephMessage m, Validation v) {
        MessageType type = m.messageType().orElse(null);
        switch (m.content()) {
            case null -> v.fail(m.isInline()
                    ? "required: give content, or item_content holding it"
                    : "required: Kiln reads the content from the message and does not fetch it from the store");
            case ProgramContent p when type == MessageType.PROGRAM -> ProgramRules.check(p, v);
            case InstanceContent i when type == MessageType.INSTANCE -> InstanceRules.check(i, v);
            case StoreContent s when type == MessageType.STORE -> StoreRules.check(s, v);
            case OtherContent _ -> { } // the type is already refused; there is nothing Kiln knows to check
            default -> v.fail("holds " + m.content().getClass().getSimpleName() + " but the message type is " + m.type());
        }
    }

    private static boolean isEmpty(JsonNode node) {
        return node == null || node.isNull() || node.isArray() && node.isEmpty();
    }
}
