package dev.kiln.store.remote;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.HashMismatchException;
import dev.kiln.store.failure.UnverifiableHashException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A remote that speaks the aleph API (a CCN or any compatible server):
 * {@code GET {base}/api/v0/messages.json?hashes=<hash>} for messages and
 * {@code GET {base}/api/v0/storage/raw/<hash>} for file bytes.
 *
 * <p>Downloads stream to the target while hashing, are refused on mismatch, and restart from the
 * first byte after a transient failure (connection errors, 5xx, 429, 408, a body cut short or
 * stalled). A 404, another 4xx, a hash mismatch or an oversized body are final: retrying the same
 * server would get the same answer; the {@link dev.kiln.store.Fetcher} moves on to the next
 * remote instead. docs/store.md has the reasoning.
 */
public final class AlephHttpSource implements RemoteSource, AutoCloseable {

    /**
     * @param connectTimeout   to open a connection
     * @param responseTimeout  from sending a request to receiving the response headers
     * @param stallTimeout     longest wait for the next bytes of a body before it counts as a failure
     * @param maxDownloadBytes a larger body is refused, announced or not, so an endless one cannot fill the disk
     * @param maxMessageBytes  the same for messages.json answers
     */
    public record Options(Duration connectTimeout, Duration responseTimeout, Duration stallTimeout,
                          long maxDownloadBytes, long maxMessageBytes, RetryPolicy retry) {

        /** 8 GiB covers instance root filesystems; runtimes are tens of MB. */
        public static final Options DEFAULTS = new Options(Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofSeconds(30), 8L << 30, 16L << 20, RetryPolicy.DEFAULT);

        public Options {
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(responseTimeout, "responseTimeout");
            Objects.requireNonNull(stallTimeout, "stallTimeout");
            Objects.requireNonNull(retry, "retry");
            if (maxDownloadBytes <= 0 || maxMessageBytes <= 0) throw new IllegalArgumentException("limits must be positive");
        }

        public Options withMaxDownloadBytes(long max) {
            return new Options(connectTimeout, responseTimeout, stallTimeout, max, maxMessageBytes, retry);
        }

        public Options withRetry(RetryPolicy policy) {
            return new Options(connectTimeout, responseTimeout, stallTimeout, maxDownloadBytes, maxMessageBytes, policy);
        }

        public Options withStallTimeout(Duration timeout) {
            return new Options(connectTimeout, responseTimeout, timeout, maxDownloadBytes, maxMessageBytes, retry);
        }
    }

    private static final String USER_AGENT = "kiln-store";
    private static final int BUFFER = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory JSON_FACTORY = JSON.getFactory();

    private final URI base;
    private final Options options;
    private final HttpClient http;

    public AlephHttpSource(URI base) {
        this(base, Options.DEFAULTS);
    }

    /** @param base the API's root, e.g. {@code https://api2.aleph.im} (a path prefix is kept) */
    public AlephHttpSource(URI base, Options options) {
        this.base = normalise(base);
        this.options = Objects.requireNonNull(options, "options");
        this.http = HttpClient.newBuilder()
                .connectTimeout(options.connectTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    @Override
    public URI location() {
        return base;
    }

    @Override
    public String fetchMessage(ItemHash messageHash) throws IOException {
        URI uri = base.resolve("api/v0/messages.json?hashes=" + URLEncoder.encode(messageHash.value(), StandardCharsets.UTF_8));
        return withRetries("message", messageHash, DownloadProgress.NONE, () -> {
            HttpResponse<InputStream> resp = send(uri);
            try (InputStream body = resp.body()) {
                int status = resp.statusCode();
                if (status == 404) {
                    // messages.json answers 200 with an empty list for unknown hashes; a 404 means no API here.
                    throw new RemoteResponseException(base, uri + " answered HTTP 404: is " + base
                            + " an aleph API? Check the --remote URL");
                }
                checkStatus(status, resp, uri, messageHash);
                String json = readLimited(body, options.maxMessageBytes(), base, uri);
                return findMessage(json, messageHash, base, uri)
                        .orElseThrow(() -> new RemoteNotFoundException("message", messageHash, base));
            }
        });
    }

    @Override
    public long download(ItemHash fileHash, Path target, DownloadProgress progress) throws IOException {
        UnverifiableHashException.requireSha256(fileHash);
        Objects.requireNonNull(progress, "progress");
        URI uri = base.resolve("api/v0/storage/raw/" + fileHash.value());
        boolean done = false;
        try {
            long size = withRetries("item", fileHash, progress, () -> downloadOnce(uri, fileHash, target, progress));
            done = true;
            return size;
        } finally {
            if (!done) Files.deleteIfExists(target);
        }
    }

    @Override
    public void close() {
        http.close();
    }

    @Override
    public String toString() {
        return "aleph API at " + base;
    }

    // ---------------------------------------------------------------- one attempt

    private long downloadOnce(URI uri, ItemHash hash, Path target, DownloadProgress progress)
            throws IOException, TransientFailure {
        HttpResponse<InputStream> resp = send(uri);
        try (InputStream body = resp.body()) {
            int status = resp.statusCode();
            if (status == 404) throw new RemoteNotFoundException("item", hash, base);
            checkStatus(status, resp, uri, hash);
            long total = resp.headers().firstValueAsLong("Content-Length").orElse(DownloadProgress.UNKNOWN);
            long max = options.maxDownloadBytes();
            if (total > max) throw new DownloadTooLargeException(hash, base, max, "the remote announced " + total + " bytes");

            MessageDigest md = ItemHash.newDigest();
            long received = 0;
            progress.progress(0, total);
            try (StallWatch watch = new StallWatch(body, options.stallTimeout());
                 FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                         StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[BUFFER];
                while (true) {
                    int n;
                    try {
                        n = body.read(buf);
                    } catch (IOException e) {
                        // Only network reads are transient; a local write error (disk full) is not retried.
                        throw new TransientFailure(watch.stalled()
                                ? new IOException("no data for " + options.stallTimeout().toSeconds() + " s after "
                                        + received + " bytes", e)
                                : new IOException("download interrupted after " + received + " bytes: " + e.getMessage(), e), null);
                    }
                    if (n == -1) break;
                    watch.progressed();
                    if (received + n > max) {
                        throw new DownloadTooLargeException(hash, base, max, "the body went past the limit");
                    }
                    md.update(buf, 0, n);
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) out.write(bb);
                    received += n;
                    progress.progress(received, total);
                }
                out.force(true);
            }
            if (total >= 0 && received != total) {
                throw new TransientFailure(new IOException("body cut short: " + received + " of " + total + " bytes"), null);
            }
            ItemHash actual = ItemHash.ofSha256(md.digest());
            if (!actual.equals(hash)) {
                throw new HashMismatchException(hash, actual, received, uri.toString(),
                        "The remote serves wrong bytes for this item: use another --remote, or report it to its operator.");
            }
            return received;
        }
    }

    private HttpResponse<InputStream> send(URI uri) throws IOException, TransientFailure {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(options.responseTimeout())
                .header("User-Agent", USER_AGENT)
                .GET()
                .build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while requesting " + uri);
        } catch (IOException e) {
            // Connection refused or reset, DNS, TLS hiccups, timeouts: all worth another try.
            String m = e.getMessage();
            throw new TransientFailure(new IOException("request to " + uri + " failed: "
                    + (m == null ? e.getClass().getSimpleName() : m), e), null);
        }
    }

    private void checkStatus(int status, HttpResponse<?> resp, URI uri, ItemHash hash) throws IOException, TransientFailure {
        if (status == 200) return;
        if (status == 429 || status == 408 || (status >= 500 && status <= 599)) {
            throw new TransientFailure(new IOException("HTTP " + status + " from " + uri), retryAfter(resp));
        }
        throw new RemoteResponseException(base, uri + " answered HTTP " + status + " for " + hash
                + ": check the --remote URL (it should be an aleph API such as https://api2.aleph.im)");
    }

    /** Retry-After in seconds; the HTTP-date form is ignored (the backoff applies instead). */
    private static Duration retryAfter(HttpResponse<?> resp) {
        return resp.headers().firstValue("Retry-After").flatMap(v -> {
            try {
                long s = Long.parseLong(v.strip());
                return s >= 0 ? Optional.of(Duration.ofSeconds(s)) : Optional.empty();
            } catch (NumberFormatException httpDate) {
                return Optional.empty();
            }
        }).orElse(null);
    }

    // ---------------------------------------------------------------- retries

    /** A failure worth another attempt; {@code retryAfter} is the server's hint, if any. */
    private static final class TransientFailure extends Exception {
        final Duration retryAfter;

        TransientFailure(IOException cause, Duration retryAfter) {
            super(cause.getMessage(), cause, false, false);
            this.retryAfter = retryAfter;
        }

        IOException io() {
            return (IOException) getCause();
        }
    }

    @FunctionalInterface
    private interface Attempt<T> {
        T run() throws IOException, TransientFailure;
    }

    private <T> T withRetries(String what, ItemHash hash, DownloadProgress progress, Attempt<T> attempt) throws IOException {
        RetryPolicy policy = options.retry();
        for (int n = 1; ; n++) {
            try {
                return attempt.run();
            } catch (TransientFailure t) {
                if (n >= policy.maxAttempts()) {
                    throw new RemoteUnavailableException(what, hash, base, n, t.io());
                }
                Duration delay = policy.delayAfter(n, t.retryAfter);
                progress.retrying(n, delay, t.io());
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting to retry " + what + " " + hash);
                }
            }
        }
    }

    // ---------------------------------------------------------------- messages.json

    /**
     * The message whose item_hash matches, as the exact substring of the response, so that
     * whatever checks it later (signature, item_content hash) sees the bytes the remote sent.
     */
    static Optional<String> findMessage(String json, ItemHash hash, URI base, URI uri) throws RemoteResponseException {
        try (JsonParser p = JSON_FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw malformed(base, uri, "not a JSON object", null);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (!"messages".equals(field)) {
                    p.skipChildren();
                    continue;
                }
                if (value != JsonToken.START_ARRAY) throw malformed(base, uri, "\"messages\" is not an array", null);
                for (JsonToken t; (t = p.nextToken()) != JsonToken.END_ARRAY; ) {
                    if (t != JsonToken.START_OBJECT) throw malformed(base, uri, "a message is not an object", null);
                    int start = (int) p.currentTokenLocation().getCharOffset();
                    JsonNode message = JSON.readTree(p);
                    int end = (int) p.currentLocation().getCharOffset();
                    String h = message.path("item_hash").asText("");
                    if (ItemHash.isValid(h) && ItemHash.parse(h).equals(hash)) {
                        return Optional.of(json.substring(start, end));
                    }
                }
                return Optional.empty();
            }
            throw malformed(base, uri, "no \"messages\" field", null);
        } catch (RemoteResponseException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw malformed(base, uri, e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw malformed(base, uri, e.getMessage(), e);
        }
    }

    private static RemoteResponseException malformed(URI base, URI uri, String detail, Throwable cause) {
        return new RemoteResponseException(base,
                uri + " did not answer a messages.json document (" + detail + "): check the --remote URL", cause);
    }

    private static String readLimited(InputStream in, long limit, URI base, URI uri) throws IOException, TransientFailure {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[16 * 1024];
        try {
            for (int n; (n = in.read(buf)) != -1; ) {
                if (out.size() + (long) n > limit) {
                    throw new RemoteResponseException(base, uri + " answered more than " + limit + " bytes, too much for a message list: check the --remote URL");
                }
                out.write(buf, 0, n);
            }
        } catch (RemoteResponseException e) {
            throw e;
        } catch (IOException e) {
            throw new TransientFailure(new IOException("reading " + uri + " failed: " + e.getMessage(), e), null);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static URI normalise(URI base) {
        Objects.requireNonNull(base, "base");
        String scheme = base.getScheme() == null ? "" : base.getScheme().toLowerCase(Locale.ROOT);
        if (!base.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || base.getRawAuthority() == null) {
            throw new IllegalArgumentException("remote '" + base + "' is not an http(s) URL: give the aleph API's"
                    + " address, e.g. https://api2.aleph.im");
        }
        if (base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new IllegalArgumentException("remote '" + base + "' must not have a query or fragment");
        }
        String s = base.toString();
        return URI.create(s.endsWith("/") ? s : s + "/");
    }
}
