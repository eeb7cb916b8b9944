package dev.kiln.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 bytes sent exactly as written, over a plain socket: for requests no well-behaved
 * client would send (broken heads, oversized headers, bodies cut short).
 */
public final class RawHttp {
    private RawHttp() {
    }

    /**
     * Sends {@code request} and reads until a response with a Content-Length has fully arrived,
     * the server closes the connection, or 10 s pass; returns what arrived.
     */
    public static String exchange(String host, int port, String request) throws IOException {
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (SocketException refusedMidWrite) {
                // a server may answer and close before it has read everything we send
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    all.write(buf, 0, n);
                    if (complete(all.toString(StandardCharsets.ISO_8859_1))) break;
                }
            } catch (SocketTimeoutException | SocketException endedHere) {
                // whatever arrived is the answer
            }
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** A response with a Content-Length whose body has fully arrived. */
    public static boolean complete(String text) {
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) return false;
        for (String line : text.substring(0, end).split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return text.length() - end - 4 >= Integer.parseInt(line.substring(15).strip());
            }
        }
        return false;
    }
}
