package dev.kiln.node.guestapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestApiHandler;
import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.records.StoreRecords;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads of the aleph API ({@code GET /api/v0/...}): a stored file or a message the node holds is
 * answered from its verified store and records; anything else goes to the configured remote, and a
 * file or message the remote returns is checked against its hash before the program sees it. Only
 * the remote's API paths are reachable — never another host, port or path of this machine.
 */
final class AlephReads {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RAW = Pattern.compile("/api/v0/storage/raw/([0-9a-fA-F]{64})");
    private static final Pattern MESSAGE = Pattern.compile("/api/v0/messages/([0-9a-fA-F]{64})");
    private static final Pattern ONE_HASH = Pattern.compile("hashes=([0-9a-fA-F]{64})");
    /** What may follow /api/v0/ : no "..", no "//", no percent-escapes that could smuggle them in. */
    private static final Pattern SAFE_PATH = Pattern.compile("/api/v0/[A-Za-z0-9._~!$'()*+,;=:@-]+(/[A-Za-z0-9._~!$'()*+,;=:@-]+)*/?");
    private static final Pattern SAFE_QUERY = Pattern.compile("[A-Za-z0-9._~!$'()*+,;=:@/?&%-]*");

    private final BlobStore blobs;
    private final StoreRecords storeRecords;
    private final ProgramRecords programs;
    private final URI remote;
    private final HttpClient http;
    private final Duration timeout;

    AlephReads(BlobStore blobs, StoreRecords storeRecords, ProgramRecords programs, URI remote, Duration timeout) {
        this.blobs = blobs;
        this.storeRecords = storeRecords;
        this.programs = programs;
        this.remote = remote; // ends with '/' (GuestApiSettings)
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    GuestApiResponse read(GuestApiRequest r) {
        String path = r.path();
        if (!SAFE_PATH.matcher(path).matches() || path.contains("..") || !SAFE_QUERY.matcher(r.query()).matches()) {
            return GuestApiResponse.error(400, "bad_path", "the guest API proxies aleph API paths (/api/v0/...)"
                    + " without '..', '//' or percent-escaped separators");
        }
        try {
            Matcher raw = RAW.matcher(path);
            if (raw.matches()) return file(ItemHash.parse(raw.group(1).toLowerCase()), r);
            Matcher one = MESSAGE.matcher(path);
            if (one.matches()) {
                Optional<String> local = localMessage(ItemHash.parse(one.group(1).toLowerCase()));
                if (local.isPresent()) {
                    ObjectNode out = JSON.createObjectNode().put("status", "processed").put("item_hash", one.group(1).toLowerCase());
                    out.set("message", JSON.readTree(local.get()));
                    return GuestApiResponse.json(200, JSON.writeValueAsString(out));
                }
            }
            Matcher q = ONE_HASH.matcher(r.query());
            if (path.equals("/api/v0/messages.json") && q.matches()) {
                Optional<String> local = localMessage(ItemHash.parse(q.group(1).toLowerCase()));
                if (local.isPresent()) {
                    return GuestApiResponse.json(200, "{\"messages\":[" + local.get() + "],\"pagination_page\":1,"
                            + "\"pagination_total\":1,\"pagination_per_page\":20,\"pagination_item\":\"messages\"}");
                }
            }
            return proxy(r, null);
        } catch (IOException e) {
            return GuestApiResponse.error(502, "read_failed", "the node could not read that: " + e.getMessage());
        }
    }

    private GuestApiResponse file(ItemHash hash, GuestApiRequest r) throws IOException {
        if (blobs.has(hash)) {
            // The store's stream re-hashes as it reads and fails at the end on a mismatch.
            try (InputStream in = blobs.open(hash)) {
                byte[] bytes = in.readNBytes(GuestApiHandler.MAX_RESPONSE_BODY + 1);
                if (bytes.length > GuestApiHandler.MAX_RESPONSE_BODY) return tooLarge(hash);
                if (in.read() >= 0) return tooLarge(hash);
                return GuestApiResponse.of(200, "application/octet-stream", bytes);
            }
        }
        return proxy(r, hash);
    }

    private static GuestApiResponse tooLarge(ItemHash hash) {
        return GuestApiResponse.error(413, "item_too_large", "item " + hash + " is larger than the guest API's "
                + GuestApiHandler.MAX_RESPONSE_BODY + " bytes; mount it as a volume instead");
    }

    private Optional<String> localMessage(ItemHash hash) throws RecordsException {
        var store = storeRecords.find(hash);
        if (store.isPresent() && store.get().messageJson() != null) return Optional.of(store.get().messageJson());
        return programs.find(hash).map(p -> p.messageJson());
    }

    /** {@code expectedFile}: the sha256 the bytes must have (a stored file), else null. */
    private GuestApiResponse proxy(GuestApiRequest r, ItemHash expectedFile) throws IOException {
        if (remote == null) {
            return GuestApiResponse.error(404, "not_found", "this node does not hold that and has no remote to ask"
                    + " (the operator starts it with --remote URL)");
        }
        URI target = remote.resolve(r.path().substring(1) + (r.query().isEmpty() ? "" : "?" + r.query()));
        if (!target.getHost().equals(remote.getHost()) || target.getPort() != remote.getPort()
                || !target.getRawPath().startsWith(remote.getRawPath() + "api/v0/")) {
            return GuestApiResponse.error(400, "bad_path", "only the remote's aleph API paths can be read");
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(timeout)
                .method(r.method().equals("HEAD") ? "HEAD" : "GET", HttpRequest.BodyPublishers.noBody());
        String accept = r.header("accept");
        if (accept != null) b.header("accept", accept);
        HttpResponse<InputStream> resp;
        try {
            resp = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return GuestApiResponse.error(503, "shutting_down", "the node is stopping");
        } catch (IOException e) {
            return GuestApiResponse.error(502, "remote_unavailable", "the remote aleph API did not answer: " + e.getMessage());
        }
        byte[] body;
        try (InputStream in = resp.body()) {
            body = in.readNBytes(GuestApiHandler.MAX_RESPONSE_BODY + 1);
        }
        if (body.length > GuestApiHandler.MAX_RESPONSE_BODY) {
            return GuestApiResponse.error(502, "response_too_large", "the remote's answer is larger than the guest API's "
                    + GuestApiHandler.MAX_RESPONSE_BODY + " bytes");
        }
        if (resp.statusCode() == 200 && expectedFile != null && !ItemHash.sha256Of(body).equals(expectedFile)) {
            return GuestApiResponse.error(502, "hash_mismatch", "the remote returned bytes that do not match " + expectedFile
                    + "; they were not passed on");
        }
        if (resp.statusCode() == 200 && r.path().startsWith("/api/v0/messages")) {
            String bad = badInlineMessage(body);
            if (bad != null) return GuestApiResponse.error(502, "hash_mismatch", bad);
        }
        String type = resp.headers().firstValue("content-type").orElse("application/octet-stream");
        return GuestApiResponse.of(resp.statusCode(), type, body);
    }

    /** A message in the remote's answer whose inline content does not hash to its item_hash, described; else null. */
    static String badInlineMessage(byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException notJson) {
            return null;
        }
        if (root == null) return null;
        JsonNode list = root.has("messages") ? root.get("messages") : root.has("message") ? JSON.createArrayNode().add(root.get("message")) : null;
        if (list == null || !list.isArray()) return null;
        for (JsonNode m : list) {
            if (!"inline".equals(m.path("item_type").asText()) || !m.path("item_content").isTextual()) continue;
            String hash = m.path("item_hash").asText();
            String actual = ItemHash.sha256Of(m.path("item_content").asText().getBytes(StandardCharsets.UTF_8)).value();
            if (!actual.equals(hash)) {
                return "the remote returned message " + hash + " whose content hashes to " + actual + "; it was not passed on";
            }
        }
        return null;
    }
}
