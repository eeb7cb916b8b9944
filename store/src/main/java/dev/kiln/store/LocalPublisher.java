package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.AlephTime;
import dev.kiln.core.message.StoreContent;
import dev.kiln.store.failure.StoreException;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Publishes files from this machine the way aleph does: the bytes go into the local store and an
 * inline STORE message naming their hash is recorded, so the message's item hash can be used as a
 * {@code runtime.ref}, {@code code.ref} or volume {@code ref} like any published item.
 *
 * <p>Messages are unsigned: this node trusts what its own user publishes. The sender is this
 * machine's publisher address, {@value #SENDER_ENV} if set, else a random address created once and
 * kept in {@code <home>/publisher}, so amends by the same machine chain together.
 */
public final class LocalPublisher {

    public static final String SENDER_ENV = "KILN_SENDER";
    static final String CHAIN = "ETH";
    static final String CHANNEL = "KILN";
    private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");

    private final BlobStore blobs;
    private final StoreRecords records;
    private final String sender;
    private final Clock clock;

    private LocalPublisher(BlobStore blobs, StoreRecords records, String sender, Clock clock) {
        this.blobs = blobs;
        this.records = records;
        this.sender = sender;
        this.clock = clock;
    }

    public static LocalPublisher open(KilnHome home, BlobStore blobs, StoreRecords records) throws IOException {
        return new LocalPublisher(blobs, records, senderOf(home, System.getenv(SENDER_ENV)), Clock.systemUTC());
    }

    static LocalPublisher open(KilnHome home, BlobStore blobs, StoreRecords records, String senderOverride, Clock clock)
            throws IOException {
        return new LocalPublisher(blobs, records, senderOf(home, senderOverride), clock);
    }

    /** The address this machine publishes as. */
    public String sender() {
        return sender;
    }

    /**
     * Puts {@code file} into the store and records a STORE message for it.
     *
     * @param amends the STORE message this publication replaces (so {@code use_latest} references to
     *               it resolve to the new file), or null for a new original
     * @return the record; its {@code messageHash()} is what programs reference
     * @throws StoreException if {@code amends} is not a STORE message recorded here, or was sent by
     *                        another address (an amend by someone else would be ignored by
     *                        {@code use_latest}, silently — refuse it instead)
     */
    public StoreRecord publish(Path file, ItemHash amends) throws IOException {
        if (amends != null) {
            StoreRecord original = records.find(amends).orElseThrow(() -> new PublishException(
                    "cannot amend " + amends + ": no STORE message with that hash is recorded here"
                            + " ('kiln store messages' lists them)"));
            if (!original.owner().equals(StoreRecord.ownerOf(sender))) {
                throw new PublishException("cannot amend " + amends + ": it was published by " + original.sender()
                        + ", and use_latest only follows amends by the same sender (this machine publishes as "
                        + sender + "; set " + SENDER_ENV + " to publish as another address)");
            }
        }
        long size = Files.size(file);
        ItemHash fileHash = blobs.put(file);
        Instant now = clock.instant();
        StoreContent content = StoreContent.of(sender, fileHash, AlephTime.of(now));
        content = new StoreContent(content.address(), content.time(), content.itemType(), content.itemHash(),
                amends == null ? null : amends.value(), size, "file", content.unknownFields());
        AlephMessage message = AlephMessage.inline(CHAIN, sender, CHANNEL, content, now);
        String json = AlephMessages.toJson(message);
        StoreRecord record = StoreRecord.of(message, json);
        records.add(record);
        return record;
    }

    /**
     * Puts {@code file}'s bytes into the store again, for a publication that reuses an existing
     * STORE record: the record outlives its blob when the blob was quarantined as corrupted or
     * removed, and publishing the same file is how a user repairs that.
     *
     * @return true if the blob was missing and is back
     */
    public boolean restoreBlob(Path file, ItemHash expected) throws IOException {
        boolean missing = !blobs.has(expected);
        try (var in = Files.newInputStream(file)) {
            blobs.put(in, expected);
        }
        return missing;
    }

    private static String senderOf(KilnHome home, String override) throws IOException {
        if (override != null && !override.isBlank()) {
            String s = override.strip();
            if (s.contains(" ") || s.length() > 128) {
                throw new PublishException(SENDER_ENV + " must be an address without spaces, got '" + s + "'");
            }
            return s;
        }
        home.create();
        Path file = home.root().resolve("publisher");
        if (Files.exists(file)) {
            String s = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (!ADDRESS.matcher(s).matches()) {
                throw new PublishException(file + " does not hold a publisher address (0x + 40 hex digits);"
                        + " delete it to have a new one made, or set " + SENDER_ENV);
            }
            return s;
        }
        byte[] random = new byte[20];
        new SecureRandom().nextBytes(random);
        String address = "0x" + HexFormat.of().formatHex(random);
        // Written aside, then hard-linked into place: linking fails if the name exists, so two
        // first runs racing agree on whichever address landed first.
        Path temp = Files.createTempFile(home.root(), "publisher-", ".part");
        try {
            Files.writeString(temp, address + "\n", StandardCharsets.US_ASCII);
            Files.createLink(file, temp);
        } catch (FileAlreadyExistsException raced) {
            // the other run's address is the one
        } finally {
            Files.deleteIfExists(temp);
        }
        return Files.readString(file, StandardCharsets.US_ASCII).strip();
    }
}
