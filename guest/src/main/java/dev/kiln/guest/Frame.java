package dev.kiln.guest;

/**
 * One protocol frame as it travels: the type is kept as a raw code so that frames of unknown types
 * can be read (and ignored) rather than breaking the stream.
 */
record Frame(int type, int flags, int stream, byte[] payload) {
    static final int HEADER_BYTES = 10;
    static final int MAX_PAYLOAD = 1 << 20;
    static final int FLAG_END = 0x01;
    /** Body chunk size the host sends; the agent uses the same. */
    static final int CHUNK = 64 * 1024;
    static final int INITIAL_WINDOW = 256 * 1024;

    Frame {
        if (payload.length > MAX_PAYLOAD) throw new IllegalArgumentException("payload over " + MAX_PAYLOAD + " bytes");
        if (type < 0 || type > 255 || flags < 0 || flags > 255) throw new IllegalArgumentException("type/flags are bytes");
    }

    static Frame of(FrameType type, int flags, int stream, byte[] payload) {
        return new Frame(type.code, flags, stream, payload);
    }

    static Frame of(FrameType type, int stream, byte[] payload) {
        return of(type, 0, stream, payload);
    }

    boolean end() {
        return (flags & FLAG_END) != 0;
    }

    FrameType knownType() {
        return FrameType.of(type);
    }

    @Override
    public String toString() {
        FrameType t = knownType();
        return "Frame[" + (t == null ? "0x" + Integer.toHexString(type) : t) + ", stream " + stream
                + (end() ? ", END" : "") + ", " + payload.length + " B]";
    }
}
