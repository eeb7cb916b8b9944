package dev.kiln.node.guestapi;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection to a Redis server speaking RESP2: a command is an array of bulk strings, a reply
 * is a simple string, an error, an integer, a bulk string (null when absent) or an array. Small on
 * purpose — the cache needs six commands — so the node takes no client library for it.
 */
final class RespConnection implements AutoCloseable {
    /** A reply of the error kind ({@code -ERR ...}). */
    static final class RespError extends IOException {
        RespError(String message) {
            super(message);
        }
    }

    private static final int MAX_BULK = 64 << 20;
    private static final int MAX_ARRAY = 1 << 20;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RespConnection(String host, int port, int timeoutMillis) throws IOException {
        socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = new BufferedOutputStream(socket.getOutputStream());
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    Object command(Object... args) throws IOException {
        out.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (Object a : args) {
            byte[] b = a instanceof byte[] bytes ? bytes : String.valueOf(a).getBytes(StandardCharsets.UTF_8);
            out.write(('$' + Integer.toString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.write('\r');
            out.write('\n');
        }
        out.flush();
        return reply();
    }

    private Object reply() throws IOException {
        int type = in.read();
        if (type < 0) throw new EOFException("Redis closed the connection");
        String line = line();
        return switch (type) {
            case '+' -> line;
            case '-' -> throw new RespError(line);
            case ':' -> Long.parseLong(line);
            case '$' -> {
                int n = Integer.parseInt(line);
                if (n < 0) yield null;
                if (n > MAX_BULK) throw new IOException("Redis sent a value of " + n + " bytes");
                byte[] b = in.readNBytes(n);
                if (b.length != n || in.read() != '\r' || in.read() != '\n') throw new EOFException("a short reply from Redis");
                yield b;
            }
            case '*' -> {
                int n = Integer.parseInt(line);
                if (n < 0) yield null;
                if (n > MAX_ARRAY) throw new IOException("Redis sent an array of " + n + " items");
                List<Object> items = new ArrayList<>(n);
                for (int i = 0; i < n; i++) items.add(reply());
                yield items;
            }
            default -> throw new IOException("not a RESP reply (type byte " + type + ")");
        };
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) throw new EOFException("Redis closed the connection");
            if (c == '\r') {
                if (in.read() != '\n') throw new IOException("a RESP line without its LF");
                return sb.toString();
            }
            if (sb.length() > 65536) throw new IOException("a RESP line over 64 KiB");
            sb.append((char) c);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
