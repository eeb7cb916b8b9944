package dev.kiln.guest;

/** Frame type codes of protocol version 1 (docs/guest-protocol.md §2). */
enum FrameType {
    HELLO(0x01), CONFIGURE(0x02), CONFIGURED(0x03), RESTORED(0x04),
    REQUEST(0x10), EVENT(0x11), RESPONSE(0x12), DATA(0x13), WINDOW(0x14), CANCEL(0x15), ERROR(0x16),
    PING(0x20), PONG(0x21), HALT(0x30), HALTED(0x31), LOG(0x40), OUTPUT(0x41),
    API_REQUEST(0x50), API_RESPONSE(0x51);

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) BY_CODE[t.code] = t;
    }

    /** The type for a code, or null for codes this version does not know (ignored, not fatal). */
    static FrameType of(int code) {
        return code >= 0 && code < 256 ? BY_CODE[code] : null;
    }
}
