package dev.kiln.node.guestapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.guest.GuestApiHandler;
import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;

/**
 * The guest API of one VM: aleph's paths (docs/guest-api.md), each gated by what the program asked
 * for and what the operator allows, and a request rate per VM. Every answer that is not the
 * program's data is JSON, errors as {@code {"error": {"code", "message"}}}.
 */
final class VmGuestApi implements GuestApiHandler {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final GuestApis node;
    private final String program;
    private final String sender;
    private final String executionId;
    private final GuestApiAccess access;
    private final RateLimit rate;

    VmGuestApi(GuestApis node, String program, String sender, String executionId, GuestApiAccess access, int perSecond) {
        this.node = node;
        this.program = program;
        this.sender = sender;
        this.executionId = executionId;
        this.access = access;
        this.rate = new RateLimit(perSecond);
    }

    @Override
    public GuestApiResponse handle(GuestApiRequest r) {
        if (!rate.tryTake()) {
            return GuestApiResponse.error(429, "rate_limited", "more than " + node.settings().requestsPerSecond()
                    + " guest-API requests a second from this VM; slow down");
        }
        String path = r.path();
        String method = r.method();
        if (path.equals("/cache") || path.startsWith("/cache/")) {
            if (!access.cache()) return refused("cache_disabled", "this program has no cache: set environment.shared_cache to true");
            if (path.equals("/cache")) return GuestApiResponse.error(404, "not_found", "the cache is at /cache/ and /cache/<key>");
            return node.cacheEndpoint().handle(program, r);
        }
        if (!access.api()) return refused("aleph_api_disabled", "this program has no aleph API: set environment.aleph_api to true");
        if (path.equals("/properties")) {
            return method.equals("GET") ? properties() : GuestApiResponse.error(405, "method_not_allowed", "GET /properties");
        }
        if (path.equals("/sign") || isPost(method, path)) return post(r);
        if (path.startsWith("/api/v0/")) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return GuestApiResponse.error(405, "method_not_allowed", "the aleph API is read with GET or HEAD here;"
                        + " messages are posted with POST /api/v0/messages (when the node allows it)");
            }
            return node.reads().read(r);
        }
        return GuestApiResponse.error(404, "not_found", "the guest API has /properties, /cache/, /api/v0/... and /sign; not "
                + path);
    }

    private static boolean isPost(String method, String path) {
        return method.equals("POST") && (path.equals("/api/v0/messages") || path.equals("/api/v0/ipfs/pubsub/pub")
                || path.equals("/api/v0/p2p/pubsub/pub"));
    }

    private GuestApiResponse post(GuestApiRequest r) {
        if (!node.settings().allowPost()) {
            return refused("post_disabled", "this node does not post messages for its programs (its operator can allow it"
                    + " with kiln node --guest-api-post)");
        }
        if (r.path().equals("/sign")) {
            return GuestApiResponse.error(501, "unsupported", "this node holds no key to sign messages with; sign the message"
                    + " in the program and post it with POST /api/v0/messages");
        }
        return node.posts().post(r, program);
    }

    private GuestApiResponse properties() {
        ObjectNode p = JSON.createObjectNode();
        p.put("vm_hash", program).put("item_hash", program).put("sender", sender).put("execution_id", executionId);
        p.putObject("node").put("software", "kiln").put("version", node.version());
        p.putObject("guest_api").put("aleph_api", access.api()).put("shared_cache", access.cache())
                .put("post", node.settings().allowPost()).put("cache", node.cache().describe());
        return GuestApiResponse.json(200, p.toString());
    }

    private static GuestApiResponse refused(String code, String message) {
        return GuestApiResponse.error(403, code, message);
    }
}
