package dev.kiln.node.guestapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Messages a program posts through the node, only where the operator allowed it: the program signs
 * them itself (the node holds no key), the node checks that the body is a message (or aleph's
 * pubsub envelope of one) and relays it to the same path of the configured remote. Logged with
 * the program that posted.
 */
final class MessagePosts {
    private static final System.Logger LOG = System.getLogger(MessagePosts.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI remote;
    private final HttpClient http;
    private final Duration timeout;

    MessagePosts(URI remote, Duration timeout) {
        this.remote = remote; // ends with '/' (GuestApiSettings)
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    GuestApiResponse post(GuestApiRequest r, String program) {
        if (remote == null) {
            return GuestApiResponse.error(503, "no_remote", "this node has no remote to post to (the operator starts it with --remote URL)");
        }
        String problem = problem(r.body(), r.path());
        if (problem != null) return GuestApiResponse.error(400, "bad_message", problem);
        HttpRequest req = HttpRequest.newBuilder(remote.resolve(r.path().substring(1))).timeout(timeout)
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(r.body())).build();
        try {
            HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            LOG.log(System.Logger.Level.INFO, "program " + program + " posted a message through " + r.path() + ": remote answered "
                    + resp.statusCode());
            String type = resp.headers().firstValue("content-type").orElse("application/json");
            return GuestApiResponse.of(resp.statusCode(), type, resp.body());
        } catch (IOException e) {
            return GuestApiResponse.error(502, "remote_unavailable", "the remote did not take the message: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return GuestApiResponse.error(503, "shutting_down", "the node is stopping");
        }
    }

    /** Why the body is not a postable message, or null. */
    static String problem(byte[] body, String path) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            return "the body is not JSON";
        }
        if (n == null || !n.isObject()) return "the body must be a JSON object";
        if (path.endsWith("/pubsub/pub")) {
            if (!n.path("topic").isTextual() || !n.path("data").isTextual()) return "a pubsub post is {\"topic\", \"data\"}";
            try {
                n = JSON.readTree(n.get("data").asText());
            } catch (IOException e) {
                return "the pubsub data is not a JSON message";
            }
        } else if (n.has("message")) {
            n = n.get("message");
        }
        if (n == null || !n.path("item_hash").isTextual() || !n.path("sender").isTextual() || !n.path("signature").isTextual()) {
            return "a message needs item_hash, sender and signature (the program signs; this node holds no key)";
        }
        return null;
    }
}
