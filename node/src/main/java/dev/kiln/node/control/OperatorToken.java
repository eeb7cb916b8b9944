package dev.kiln.node.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The node operator's secret: made at the node's first start in {@code <home>/operator-token}
 * (mode 0600, created with those rights so it is never readable by others, not even briefly), and
 * never logged. A caller proves it knows the token in either of two ways:
 *
 * <ul>
 *   <li>{@code Authorization: Bearer <token>} — what {@code kiln} sends;</li>
 *   <li>{@code X-Auth-Signature: <token>} — aleph-vm's allocation scheme, where the node keeps only
 *       the SHA-256 of the token and compares it with the hash of the header's value.</li>
 * </ul>
 *
 * Only the hash is kept in memory after loading, and comparisons take constant time, so neither a
 * heap dump nor response timing gives the token away.
 */
public final class OperatorToken {
    public static final String FILE_NAME = "operator-token";
    private static final int TOKEN_BYTES = 32;

    private final byte[] sha256;
    private final Path file;

    private OperatorToken(byte[] sha256, Path file) {
        this.sha256 = sha256;
        this.file = file;
    }

    /** Reads {@code dir/operator-token}, creating it first if this node has none yet. */
    public static OperatorToken loadOrCreate(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            byte[] raw = new byte[TOKEN_BYTES];
            new SecureRandom().nextBytes(raw);
            String token = HexFormat.of().formatHex(raw);
            try {
                Files.createDirectories(dir);
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
            } catch (FileAlreadyExistsException raced) {
                // another process made it first: use theirs
            }
        }
        String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (token.isEmpty()) {
            throw new IOException(file + " is empty: delete it and restart the node to make a new operator token");
        }
        return new OperatorToken(hash(token), file);
    }

    /** Where the token is kept, for messages that tell the operator where to find it. */
    public Path file() {
        return file;
    }

    /** Whether the request's headers prove knowledge of the token (either scheme above). */
    public boolean accepts(Optional<String> authorization, Optional<String> xAuthSignature) {
        Optional<String> bearer = authorization.map(String::strip)
                .filter(a -> a.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(a -> a.substring(7).strip());
        return bearer.map(this::matches).orElse(false) || xAuthSignature.map(s -> matches(s.strip())).orElse(false);
    }

    /** Reads the token from a node home, as the CLI does to call the operator API. */
    public static Optional<String> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) return Optional.empty();
        return Optional.of(Files.readString(file, StandardCharsets.US_ASCII).strip()).filter(s -> !s.isEmpty());
    }

    private boolean matches(String candidate) {
        return MessageDigest.isEqual(sha256, hash(candidate));
    }

    private static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
