package dev.kiln.node.error;

/**
 * The node's error codes: what clients see as {@code {"error": {"code": ..., "message": ...}}}
 * with the HTTP status below. The codes are a stable API; the messages are for people.
 */
public enum ErrorCode {
    /** No PROGRAM message with that hash here, nor on a remote. */
    PROGRAM_NOT_FOUND(404, "program_not_found"),
    /** The path names no node endpoint. */
    NOT_FOUND(404, "not_found"),
    /** A /control endpoint without the node operator's token (or with a wrong one); nothing was done. */
    UNAUTHORIZED(401, "unauthorized"),
    /** The endpoint does not answer this method. */
    METHOD_NOT_ALLOWED(405, "method_not_allowed"),
    /** The request itself is malformed (e.g. not an item hash where one belongs). */
    BAD_REQUEST(400, "bad_request"),
    /** The request's header block is over the webserver's limit. */
    HEADERS_TOO_LARGE(431, "headers_too_large"),
    /** The request line (method, URL, version) is over the webserver's limit. */
    URI_TOO_LONG(414, "uri_too_long"),
    /** The request body is over a limit. */
    PAYLOAD_TOO_LARGE(413, "payload_too_large"),
    /** The request has more headers than the guest protocol carries to a program. */
    TOO_MANY_HEADERS(431, "too_many_headers"),
    /** The PROGRAM message fails validation or its integrity check; details list each field. */
    INVALID_PROGRAM(400, "invalid_program"),
    /** The code (or data) cannot be run: corrupted blob, hash mismatch, the guest refused it. */
    INVALID_CODE(400, "invalid_code"),
    /** A code, runtime or volume the program references is neither here nor on any remote. */
    MISSING_ITEM(400, "missing_item"),
    /** The message asks for something this node does not do (e.g. a host-persistent volume). */
    UNSUPPORTED(400, "unsupported"),
    /** The VM did not boot. */
    BOOT_FAILED(502, "boot_failed"),
    /** The VM died (or its guest agent stopped answering) during the request. */
    VM_DIED(502, "vm_died"),
    /** The program started its response, then aborted it before sending any of the body. */
    PROGRAM_FAILED(502, "program_failed"),
    /** A remote that has the item could not be reached. */
    REMOTE_UNAVAILABLE(502, "remote_unavailable"),
    /** The memory budget has no room for another VM, even after stopping idle ones. */
    NO_CAPACITY(503, "no_capacity"),
    /** Too many request bodies are uploading to the program's VM at once; retry shortly. */
    TOO_MANY_UPLOADS(503, "too_many_uploads"),
    /** The node is stopping. */
    SHUTTING_DOWN(503, "shutting_down"),
    /** The self check failed (see its details). */
    CHECK_FAILED(503, "check_failed"),
    /** The program did not start answering within {@code resources.seconds}. */
    PROGRAM_TIMEOUT(504, "program_timeout"),
    /** A persistent volume the program needs is attached to another running VM. */
    VOLUME_IN_USE(409, "volume_in_use"),
    /** A bug or an unexpected failure on the node; the log has the details. */
    INTERNAL(500, "internal");

    private final int status;
    private final String wire;

    ErrorCode(int status, String wire) {
        this.status = status;
        this.wire = wire;
    }

    public int status() {
        return status;
    }

    /** The code as written in the JSON body. */
    public String wire() {
        return wire;
    }
}
