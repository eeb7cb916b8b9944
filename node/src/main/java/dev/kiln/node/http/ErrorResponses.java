package dev.kiln.node.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

/**
 * Writes errors as {@code {"error": {"code": ..., "message": ..., "details": [...]}}}. Only the
 * code, the message and field details reach the client; causes and stack traces go to the log.
 */
final class ErrorResponses {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The console page with the logs of the program a request went to, bound while it is forwarded. */
    static final ScopedValue<String> LOG_URL = ScopedValue.newInstance();
    /** Errors whose cause a program's owner finds in its VM's log. */
    private static final java.util.Set<ErrorCode> WITH_LOG = java.util.EnumSet.of(ErrorCode.BOOT_FAILED,
            ErrorCode.INVALID_CODE, ErrorCode.VM_DIED, ErrorCode.PROGRAM_FAILED, ErrorCode.PROGRAM_TIMEOUT);

    private ErrorResponses() {
    }

    static void send(ServerResponse res, NodeException e) {
        send(res, e.code(), e.getMessage(), e);
    }

    static void send(ServerResponse res, ErrorCode code, String message) {
        send(res, code, message, null);
    }

    private static void send(ServerResponse res, ErrorCode code, String message, NodeException e) {
        if (res.isSent()) return;
        res.status(code.status());
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(body(code, message, e));
    }

    static byte[] body(ErrorCode code, String message, NodeException e) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("code", code.wire());
        error.put("message", message);
        if (WITH_LOG.contains(code) && LOG_URL.isBound()) error.put("log", LOG_URL.get());
        if (e != null && !e.details().isEmpty()) {
            ArrayNode details = error.putArray("details");
            for (NodeException.Detail d : e.details()) details.addObject().put("path", d.path()).put("reason", d.reason());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
