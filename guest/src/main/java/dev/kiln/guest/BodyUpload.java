package dev.kiln.guest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;

/**
 * Streams bytes to the agent as DATA frames within the stream's window, on a thread of its own
 * (the caller waits for the answer meanwhile). Whatever the source throws — an
 * {@link IOException}, or the unchecked exceptions a web server's body stream throws for a broken
 * chunk or a body shorter than its Content-Length — cancels the stream and fails it with
 * {@link GuestRequestBodyException}: nothing escapes the thread, nothing is left waiting.
 */
final class BodyUpload {
    private BodyUpload() {
    }

    /** Uploads a request body; {@code done} runs when the upload is over, however it ended. */
    static void requestBody(GuestChannel channel, GuestStream stream, InputStream body, Runnable done) {
        Thread.ofVirtual().name("kiln-guest-body-" + stream.id).start(() -> {
            try (body) {
                send(channel, stream, body, true);
            } catch (GuestException e) {
                stream.fail(e);
            } catch (Exception e) {
                channel.cancel(stream, "request body read failed",
                        new GuestRequestBodyException("reading the request body failed: " + e, e));
            } finally {
                done.run();
            }
        });
    }

    /** Uploads the configuration's attachments back to back, then ends the stream. */
    static void attachments(GuestChannel channel, GuestStream stream, List<Attachment> attachments) {
        Thread.ofVirtual().name("kiln-guest-attachments").start(() -> {
            try {
                for (int i = 0; i < attachments.size(); i++) {
                    try (InputStream in = attachments.get(i).open()) {
                        if (!send(channel, stream, in, i == attachments.size() - 1)) return;
                    }
                }
            } catch (GuestException e) {
                stream.fail(e);
            } catch (Exception e) {
                channel.cancel(stream, "attachment read failed",
                        new GuestStreamException("cancelled", "reading a configuration attachment failed: " + e, e));
            }
        });
    }

    /** Sends one source; false if the stream ended first (the agent answered, or it failed). */
    private static boolean send(GuestChannel channel, GuestStream stream, InputStream in, boolean endStream) throws IOException {
        byte[] buf = new byte[Frame.CHUNK];
        // Only a source whose length is known can mark its last chunk; others end with an empty DATA.
        boolean exactLength = in instanceof ByteArrayInputStream;
        while (true) {
            int n = in.read(buf);
            if (n < 0) {
                if (endStream) channel.send(Frame.of(FrameType.DATA, Frame.FLAG_END, stream.id, new byte[0]));
                return true;
            }
            boolean last = endStream && exactLength && in.available() == 0;
            int off = 0;
            while (off < n) {
                int granted = stream.takeCredit(n - off);
                if (granted == 0) return false;
                byte[] chunk = Arrays.copyOfRange(buf, off, off + granted);
                off += granted;
                channel.send(Frame.of(FrameType.DATA, last && off == n ? Frame.FLAG_END : 0, stream.id, chunk));
            }
            if (last) return true;
        }
    }
}
