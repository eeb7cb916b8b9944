package dev.kiln.core.message;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Checks that a message is what its item hash says. For an inline message: {@code item_hash} is
 * the SHA-256 (lower-case hex) of the exact UTF-8 bytes of {@code item_content}, and the
 * {@code content} object, when the envelope carries one, is the same as item_content parsed —
 * otherwise the node would run something other than what was hashed and signed.
 *
 * <p>For storage and ipfs messages the content lives elsewhere: only the shape of the hash is
 * checked here; the bytes must be verified against it when they are fetched.
 */
public final class IntegrityCheck {
    private static final int DIFFERENCES_SHOWN = 5;

    private IntegrityCheck() {}

    public static List<ValidationError> verify(AlephMessage message) {
        Validation v = Validation.root();
        if (message.hashType() != null && !message.hashType().equals("sha256")) {
            v.at("hash_type").fail("must be 'sha256', the only hash aleph defines; got '" + message.hashType() + "'");
        }
        switch (message.knownItemType().orElse(null)) {
            case INLINE -> inline(message, v);
            case STORAGE, IPFS -> stored(message, message.knownItemType().orElseThrow(), v);
            case null -> v.at("item_type").fail(message.itemType() == null
                    ? "required: without it the item hash cannot be checked"
                    : "'" + message.itemType() + "' is not inline, storage or ipfs: the item hash cannot be checked");
        }
        return v.errors();
    }

    private static void inline(AlephMessage m, Validation v) {
        Validation hashAt = v.at("item_hash");
        String declared = m.itemHash();
        boolean declaredValid = hashAt.required(declared, "required: the SHA-256 of item_content");
        if (declaredValid && !isSha256Hex(declared)) {
            hashAt.fail("'" + declared + "' is not a valid item hash: an inline message's item_hash is the SHA-256"
                    + " of item_content, 64 lower-case hex digits");
            declaredValid = false;
        }
        String itemContent = m.itemContent();
        if (itemContent == null) {
            v.at("item_content").fail("required when item_type is inline: it is the text item_hash is computed from");
            return;
        }
        String actual = ItemHash.sha256Of(itemContent.getBytes(StandardCharsets.UTF_8)).value();
        if (declared != null && !actual.equals(declared)) {
            if (declaredValid && actual.equalsIgnoreCase(declared)) {
                hashAt.fail("must be lower-case hex ('" + actual + "'): aleph compares it as a string");
            } else {
                v.at("item_content").fail("SHA-256 is " + actual + ", item_hash says '" + declared
                        + "': item_content was changed after hashing, or item_hash belongs to another message");
            }
        }
        if (m.contentInEnvelope() && m.content() != null) sameContent(m, itemContent, v);
    }

    private static void sameContent(AlephMessage m, String itemContent, Validation v) {
        MessageContent hashed;
        try {
            ObjectNode tree = Json.readObject(itemContent, "item_content");
            hashed = ContentCodec.read(m.type(), tree, "item_content");
        } catch (MessageFormatException e) {
            (e.path() == null ? v.at("item_content") : v.at(e.path())).fail(e.reason());
            return;
        }
        // Compare the models, not the texts: key order, spacing and explicit nulls do not change what runs.
        List<JsonDiff.Difference> diffs = JsonDiff.between(
                ContentCodec.toTree(m.content()), ContentCodec.toTree(hashed), "content", DIFFERENCES_SHOWN + 1);
        if (!diffs.isEmpty()) {
            v.at("content").fail("does not match item_content, which is what item_hash covers: "
                    + JsonDiff.describe(diffs, DIFFERENCES_SHOWN, "content", "item_content"));
        }
    }

    private static void stored(AlephMessage m, ItemType type, Validation v) {
        if (m.itemContent() != null) {
            v.at("item_content").fail("must be absent when item_type is " + type.wire()
                    + ": the content is stored under item_hash, not inline");
        }
        Validation at = v.at("item_hash");
        if (!at.required(m.itemHash(), "required: the hash the content is stored under")) return;
        try {
            ItemHash hash = ItemHash.parse(m.itemHash());
            if (type == ItemType.STORAGE && !hash.isSha256()) {
                at.fail("item_type storage needs a SHA-256 (64 hex digits); a CID means item_type ipfs");
            } else if (type == ItemType.IPFS && hash.isSha256()) {
                at.fail("item_type ipfs needs an IPFS CID (Qm… or b…); a SHA-256 means item_type storage");
            }
        } catch (InvalidItemHashException e) {
            at.fail(e.getMessage());
        }
    }

    private static boolean isSha256Hex(String s) {
        if (s.length() != 64) return false;
        for (int i = 0; i < 64; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) return false;
        }
        return true;
    }
}
