package dev.kiln.store.records;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.StoreContent;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What Kiln keeps of one aleph STORE message: enough to resolve a {@code ref} (and its amends) to
 * a file item hash, plus the raw message for anything else.
 *
 * @param messageHash the STORE message's own item hash (what a program's {@code runtime.ref} names)
 * @param sender      the message's sender address
 * @param fileHash    {@code content.item_hash}: the stored file
 * @param itemType    {@code content.item_type}: where the file lives
 * @param ref         {@code content.ref}: the message this one amends, or null for an original
 * @param size        file size in bytes if the message says, else null
 * @param contentType {@code content.content_type} ("file", "directory"), or null
 * @param time        the message time; kept to the microsecond
 * @param messageJson the message exactly as received
 */
public record StoreRecord(ItemHash messageHash, String sender, ItemHash fileHash, ItemType itemType, ItemHash ref,
                          Long size, String contentType, Instant time, String messageJson) {

    /** Where a stored file's bytes live, as aleph names it. */
    public enum ItemType {
        STORAGE, IPFS;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static ItemType fromWire(String s) {
            return switch (s) {
                case "storage" -> STORAGE;
                case "ipfs" -> IPFS;
                default -> throw new IllegalArgumentException("unknown STORE item_type '" + s + "' (expected storage or ipfs)");
            };
        }
    }

    private static final Pattern ETHEREUM_ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");

    public StoreRecord {
        Objects.requireNonNull(messageHash, "messageHash");
        Objects.requireNonNull(fileHash, "fileHash");
        Objects.requireNonNull(itemType, "itemType");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(messageJson, "messageJson");
        if (sender == null || sender.isBlank()) throw new IllegalArgumentException("a STORE message needs a sender");
        if (size != null && size < 0) throw new IllegalArgumentException("negative size " + size);
        if (messageHash.equals(ref)) throw new IllegalArgumentException("message " + messageHash + " amends itself");
        time = time.truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * An aleph message time (seconds since the epoch, as a JSON float) as an instant, to the
     * microsecond: a double holds today's times exactly at that precision.
     */
    public static Instant alephTime(double epochSeconds) {
        if (!Double.isFinite(epochSeconds) || epochSeconds < 0) {
            throw new IllegalArgumentException("not a message time: " + epochSeconds);
        }
        return Instant.EPOCH.plus(Math.round(epochSeconds * 1_000_000d), ChronoUnit.MICROS);
    }

    /**
     * The record of a STORE message. The message must already have passed
     * {@code AlephMessages.check}; this only picks the fields the records keep.
     *
     * @param json the message exactly as received, kept for anything the record does not model
     * @throws IllegalArgumentException if it is not a STORE message with a file hash
     */
    public static StoreRecord of(AlephMessage message, String json) {
        if (!(message.content() instanceof StoreContent c)) {
            throw new IllegalArgumentException("message " + message.itemHash() + " is a " + message.type()
                    + " message, not a STORE message");
        }
        if (c.itemHash() == null || c.itemType() == null) {
            throw new IllegalArgumentException("STORE message " + message.itemHash() + " names no file (content.item_hash)");
        }
        BigDecimal t = message.time() != null ? message.time() : c.time();
        if (t == null) throw new IllegalArgumentException("STORE message " + message.itemHash() + " has no time");
        return new StoreRecord(message.hash(), message.sender(), c.fileHash(), ItemType.fromWire(c.itemType()),
                c.ref() == null ? null : ItemHash.parse(c.ref()), c.size(), c.contentType(),
                alephTime(t.doubleValue()), json);
    }

    /** The message this one amends, if it is an amend. */
    public Optional<ItemHash> amends() {
        return Optional.ofNullable(ref);
    }

    /**
     * The sender as compared for amends. Ethereum addresses are case-insensitive (the mixed case is
     * only a checksum), so they compare lower-cased; other chains' addresses (base58…) are
     * case-sensitive and compare as they are.
     */
    public String owner() {
        return ownerOf(sender);
    }

    public static String ownerOf(String sender) {
        return ETHEREUM_ADDRESS.matcher(sender).matches() ? sender.toLowerCase(Locale.ROOT) : sender;
    }
}
