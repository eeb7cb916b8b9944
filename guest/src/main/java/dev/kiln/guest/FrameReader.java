package dev.kiln.guest;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads frames through one buffer, so small frames cost one read for many. The guest is untrusted:
 * a length over the maximum is a protocol violation, never an allocation.
 */
final class FrameReader {
    private final ReadableByteChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024).flip();

    FrameReader(ReadableByteChannel channel) {
        this.channel = channel;
    }

    /** The next frame, or null at a clean end of stream (between frames). */
    Frame read() throws IOException {
        if (!fill(Frame.HEADER_BYTES, true)) return null;
        long length = Integer.toUnsignedLong(buffer.getInt());
        int type = buffer.get() & 0xFF;
        int flags = buffer.get() & 0xFF;
        int stream = buffer.getInt();
        if (length > Frame.MAX_PAYLOAD) {
            throw new GuestProtocolException("the agent sent a frame of " + length + " bytes (maximum " + Frame.MAX_PAYLOAD + ")");
        }
        byte[] payload = new byte[(int) length];
        int copied = 0;
        while (copied < payload.length) {
            if (!buffer.hasRemaining() && !fill(1, false)) throw new EOFException("end of stream inside a frame");
            int n = Math.min(buffer.remaining(), payload.length - copied);
            buffer.get(payload, copied, n);
            copied += n;
        }
        return new Frame(type, flags, stream, payload);
    }

    private boolean fill(int needed, boolean eofAllowedIfEmpty) throws IOException {
        while (buffer.remaining() < needed) {
            buffer.compact();
            int n;
            try {
                n = channel.read(buffer);
            } finally {
                buffer.flip();
            }
            if (n < 0) {
                if (eofAllowedIfEmpty && !buffer.hasRemaining()) return false;
                throw new EOFException("end of stream inside a frame");
            }
        }
        return true;
    }
}
