package dev.kiln.node.guestapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;
import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code /cache/} and {@code /cache/<key>} as aleph's guest API has them: GET lists keys
 * ({@code ?pattern=} a glob, default {@code *}), GET/PUT/DELETE one key; keys {@code ^\w+$},
 * patterns {@code ^[\w?*^\-]+$}. Answers are aleph's: the bytes for a GET, {@code true} for a PUT,
 * the number of keys removed for a DELETE, a JSON list of keys; errors are JSON.
 */
final class CacheEndpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern KEY = Pattern.compile("\\w+");
    private static final Pattern GLOB = Pattern.compile("[\\w?*^\\-]+");
    private static final int MAX_LISTED = 1000;

    private final ProgramCache cache;
    private final CacheLimits limits;

    CacheEndpoint(ProgramCache cache, CacheLimits limits) {
        this.cache = cache;
        this.limits = limits;
    }

    GuestApiResponse handle(String program, GuestApiRequest r) {
        String rest = r.path().substring("/cache/".length());
        try {
            if (rest.isEmpty()) {
                if (!r.method().equals("GET")) return methodNotAllowed("GET");
                String pattern = queryParam(r.query(), "pattern", "*");
                if (pattern.length() > limits.maxKeyLength() || !GLOB.matcher(pattern).matches()) {
                    return GuestApiResponse.error(400, "bad_pattern", "a key pattern is letters, digits, _, -, ^, ? and *");
                }
                List<String> keys = cache.keys(program, pattern, MAX_LISTED);
                return GuestApiResponse.json(200, JSON.writeValueAsString(keys));
            }
            if (rest.length() > limits.maxKeyLength() || !KEY.matcher(rest).matches()) {
                return GuestApiResponse.error(400, "bad_key", "a cache key is 1-" + limits.maxKeyLength()
                        + " letters, digits or _ (aleph's ^\\w+$)");
            }
            return switch (r.method()) {
                case "GET" -> cache.get(program, rest).map(v -> GuestApiResponse.of(200, "application/octet-stream", v))
                        .orElseGet(() -> GuestApiResponse.error(404, "not_found", "no such key in the cache"));
                case "PUT", "POST" -> put(program, rest, r.body());
                case "DELETE" -> GuestApiResponse.json(200, cache.delete(program, rest) ? "1" : "0");
                default -> methodNotAllowed("GET, PUT, DELETE");
            };
        } catch (IOException e) {
            return GuestApiResponse.error(503, "cache_unavailable", "the cache cannot be reached: " + e.getMessage());
        }
    }

    private GuestApiResponse put(String program, String key, byte[] value) throws IOException {
        if (value.length > limits.maxValueBytes()) {
            return GuestApiResponse.error(413, "value_too_large", "cache values are limited to " + limits.maxValueBytes() + " bytes");
        }
        try {
            cache.put(program, key, value);
            return GuestApiResponse.json(200, "true");
        } catch (ProgramCache.CacheFullException e) {
            return GuestApiResponse.error(507, "cache_full", e.getMessage());
        }
    }

    private static GuestApiResponse methodNotAllowed(String allowed) {
        return GuestApiResponse.error(405, "method_not_allowed", "this path takes " + allowed);
    }

    static String queryParam(String query, String name, String fallback) {
        for (String part : query.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(0, eq).equals(name)) {
                return java.net.URLDecoder.decode(part.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return fallback;
    }
}
