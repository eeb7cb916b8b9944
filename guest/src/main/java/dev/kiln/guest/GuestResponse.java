package dev.kiln.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A response from the program: the head at once, the body as it arrives. Read it chunk by chunk
 * ({@link #nextChunk()}, one chunk per ASGI {@code more_body} message) to forward a streaming
 * response as it is produced, or through {@link #body()}. Closing before the end cancels the
 * stream on the agent.
 */
public final class GuestResponse implements AutoCloseable {
    private final GuestChannel channel;
    private final GuestStream stream;
    private final int status;
    private final List<Header> headers;
    private boolean finished;

    GuestResponse(GuestChannel channel, GuestStream stream, int status, List<Header> headers) {
        this.channel = channel;
        this.stream = stream;
        this.status = status;
        this.headers = List.copyOf(headers);
    }

    public int status() {
        return status;
    }

    public List<Header> headers() {
        return headers;
    }

    /** The first value of a header (case-insensitive), or null. */
    public String header(String name) {
        for (Header h : headers) if (h.name().equalsIgnoreCase(name)) return h.value();
        return null;
    }

    /**
     * The next body chunk, blocking until it arrives; null once the body is complete. Throws
     * {@link GuestStreamException} if the agent aborted the response (e.g. the app crashed after
     * starting it) and {@link GuestChannelClosedException} if the channel died.
     */
    public byte[] nextChunk() {
        if (finished) return null;
        byte[] chunk = stream.nextChunk();
        if (chunk == null) finished = true;
        return chunk;
    }

    public byte[] readAllBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] c = nextChunk(); c != null; c = nextChunk()) out.writeBytes(c);
        return out.toByteArray();
    }

    public String bodyText() {
        return new String(readAllBytes(), StandardCharsets.UTF_8);
    }

    public InputStream body() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int pos;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                while (pos == current.length) {
                    byte[] next;
                    try {
                        next = nextChunk();
                    } catch (GuestException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                    if (next == null) return -1;
                    current = next;
                    pos = 0;
                }
                int n = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public void close() {
                GuestResponse.this.close();
            }
        };
    }

    /** Stops the response: the agent cancels the handler (ASGI disconnect) and sends nothing more. */
    public void cancel() {
        channel.cancel(stream, "cancelled by the host");
        finished = true;
    }

    @Override
    public void close() {
        if (!finished && !stream.ended()) cancel();
    }
}
