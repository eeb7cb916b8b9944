package dev.kiln.guest;

import java.util.HashMap;
import java.util.Map;

/**
 * The codes the agent puts in ERROR frames, CANCEL reasons and failed CONFIGURED results
 * (docs/guest-protocol.md §2.1, §5), plus the few the host gives its own refusals. Callers compare
 * these, never the wire strings; a code this version does not know is {@link #UNKNOWN} and the
 * exception keeps the raw string for the log.
 */
public enum GuestErrorCode {
    // one stream refused or aborted (ERROR, CANCEL)
    BAD_REQUEST("bad_request"),
    TOO_MANY_HEADERS("too_many_headers"),
    BAD_FRAME("bad_frame"),
    FRAME_TOO_LARGE("frame_too_large"),
    UNKNOWN_FRAME_TYPE("unknown_frame_type"),
    STREAM_IN_USE("stream_in_use"),
    TOO_MANY_STREAMS("too_many_streams"),
    NOT_CONFIGURED("not_configured"),
    ALREADY_CONFIGURED("already_configured"),
    HALTING("halting"),
    FLOW_CONTROL("flow_control"),
    TIMEOUT("timeout"),
    APP_ERROR("app_error"),
    UPSTREAM_ERROR("upstream_error"),
    CANCELLED("cancelled"),
    /** The host could not read the body it was uploading (the HTTP client's side broke). */
    BODY_FAILED("body_failed"),
    /** The host refused a request with a body: too many bodies are uploading to this guest already. */
    TOO_MANY_UPLOADS("too_many_uploads"),
    // configuration failures (CONFIGURED with ok: false)
    BAD_CONFIG("bad_config"),
    BAD_ZIP("bad_zip"),
    /** The archive would expand past its limit, the free space or the guest's memory. */
    ZIP_TOO_LARGE("zip_too_large"),
    ATTACHMENT("attachment"),
    MOUNT_FAILED("mount_failed"),
    NETWORK_FAILED("network_failed"),
    ASGI_UNAVAILABLE("asgi_unavailable"),
    MODULE_NOT_FOUND("module_not_found"),
    IMPORT_FAILED("import_failed"),
    ENTRYPOINT_NOT_FOUND("entrypoint_not_found"),
    LIFESPAN_FAILED("lifespan_failed"),
    PROGRAM_EXITED("program_exited"),
    PROGRAM_NOT_LISTENING("program_not_listening"),
    /** A restored copy could not refresh itself (RESTORED, §7.1). */
    RESTORE_FAILED("restore_failed"),
    // either
    INTERNAL("internal"),
    UNKNOWN(null);

    private static final Map<String, GuestErrorCode> BY_WIRE = new HashMap<>();

    static {
        for (GuestErrorCode c : values()) if (c.wire != null) BY_WIRE.put(c.wire, c);
    }

    private final String wire;

    GuestErrorCode(String wire) {
        this.wire = wire;
    }

    /** The code for a wire string; {@link #UNKNOWN} for null or anything this version does not know. */
    public static GuestErrorCode of(String wire) {
        return wire == null ? UNKNOWN : BY_WIRE.getOrDefault(wire, UNKNOWN);
    }

    /** The string on the wire; null for {@link #UNKNOWN}. */
    public String wire() {
        return wire;
    }
}
