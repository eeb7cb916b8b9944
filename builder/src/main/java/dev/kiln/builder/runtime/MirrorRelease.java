package dev.kiln.builder.runtime;

import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * The state of a Debian archive: the SHA-256 of a suite's {@code InRelease} file, which changes
 * whenever any package of the suite does. It keys the base bootstrap cache, so a cached base is
 * reused exactly as long as the archive would give the same packages.
 */
final class MirrorRelease {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private MirrorRelease() {
    }

    /** The release's hash, or empty if the mirror cannot be reached (offline: reuse what is cached). */
    static Optional<ItemHash> fetch(String mirror, String suite) throws InterruptedException {
        URI uri = URI.create(mirror + "/dists/" + suite + "/InRelease");
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT)
                .followRedirects(HttpClient.Redirect.NORMAL).build()) {
            HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) return Optional.empty();
            return Optional.of(ItemHash.sha256Of(response.body()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
