package dev.kiln.core.message;

import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;

/** Rules for STORE content: a file identified by a hash that matches where it is stored. */
final class StoreRules {
    private StoreRules() {}

    static void check(StoreContent s, Validation v) {
        v.at("address").required(s.address(), "required: the address that owns the file");
        v.at("time").epochSeconds(s.time());
        Validation itemType = v.at("item_type");
        boolean typeKnown = false;
        if (itemType.required(s.itemType(), "required: storage or ipfs")) {
            if (ItemType.INLINE.wire().equals(s.itemType())) {
                itemType.fail("a STORE message publishes a file: use storage (item_hash = SHA-256 of the file) or ipfs (a CID)");
            } else {
                itemType.oneOf(s.itemType(), ItemType.WIRE_NAMES);
                typeKnown = s.knownItemType().isPresent();
            }
        }
        Validation hash = v.at("item_hash");
        if (hash.required(s.itemHash(), "required: the hash of the stored file")) {
            try {
                ItemHash file = ItemHash.parse(s.itemHash());
                if (typeKnown) matchesItemType(file, s.knownItemType().orElseThrow(), hash);
            } catch (InvalidItemHashException e) {
                hash.fail(e.getMessage());
            }
        }
        v.at("ref").itemHash(s.ref());
        if (s.size() != null && s.size() < 0) v.at("size").fail("must be ≥ 0, got " + s.size());
    }

    private static void matchesItemType(ItemHash file, ItemType type, Validation at) {
        if (type == ItemType.STORAGE && !file.isSha256()) {
            at.fail("item_type storage needs the file's SHA-256 (64 hex digits); a CID means item_type ipfs");
        } else if (type == ItemType.IPFS && file.isSha256()) {
            at.fail("item_type ipfs needs an IPFS CID (Qm… or b…); a SHA-256 means item_type storage");
        }
    }
}
