package dev.kiln.node.guestapi;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The key/value store behind {@code /cache} (aleph's shared cache): every key lives under its
 * program's prefix, so one program never sees another's. Implementations: {@link EmbeddedCache}
 * (default) and {@link RedisCache} ({@code --redis}).
 */
public interface ProgramCache extends AutoCloseable {
    /** A write the limits refuse; its message says which limit and what to do. */
    final class CacheFullException extends Exception {
        public CacheFullException(String message) {
            super(message);
        }
    }

    Optional<byte[]> get(String program, String key) throws IOException;

    void put(String program, String key, byte[] value) throws IOException, CacheFullException;

    /** True if the key existed. */
    boolean delete(String program, String key) throws IOException;

    /** The program's keys matching a glob ({@code *}, {@code ?}; other characters literal), at most {@code limit}. */
    List<String> keys(String program, String pattern, int limit) throws IOException;

    /** Which store this is, for /about and logs. */
    String describe();

    @Override
    void close();
}
