package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;

/**
 * STORE content: publishes a file by its hash ({@code item_hash}: SHA-256 hex for
 * {@code storage}, a CID for {@code ipfs}). {@code ref} names the STORE message this one amends,
 * which is how {@code use_latest} references find newer versions. {@code size} and
 * {@code content_type} are filled in by aleph nodes.
 */
public record StoreContent(
        String address,
        BigDecimal time,
        String itemType,
        String itemHash,
        String ref,
        Long size,
        String contentType,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) implements MessageContent {

    public StoreContent {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    /** A STORE of a file kept in a SHA-256 store (item_type storage) or IPFS (a CID). */
    public static StoreContent of(String address, ItemHash file, BigDecimal time) {
        ItemType type = file.isSha256() ? ItemType.STORAGE : ItemType.IPFS;
        return new StoreContent(address, time, type.wire(), file.value(), null, null, null, Map.of());
    }

    public ItemHash fileHash() {
        return ItemHash.parse(itemHash);
    }

    public Optional<ItemType> knownItemType() {
        return ItemType.fromWire(itemType);
    }

    /** This content as an amend of the STORE message {@code original}. */
    public StoreContent amending(ItemHash original) {
        return new StoreContent(address, time, itemType, itemHash, original.value(), size, contentType, unknownFields);
    }
}
