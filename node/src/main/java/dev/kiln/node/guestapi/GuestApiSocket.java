package dev.kiln.node.guestapi;

import dev.kiln.guest.GuestApiHandler;
import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;
import dev.kiln.guest.Header;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One VM's guest API served as plain HTTP/1.1 on a Unix socket only the node's user can open: the
 * way an instance reaches it, since an instance runs its distribution's own init and no Kiln agent.
 * QEMU's user-mode network forwards the guest's connections to one address of its virtual network
 * here ({@code guestfwd}, docs/instances.md), each as its own connection, so one request per
 * connection ({@code Connection: close}) is all a client needs and no connection outlives a slow
 * guest: each has {@link #DEADLINE_SECONDS} to send its request and be answered.
 */
public final class GuestApiSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GuestApiSocket.class.getName());
    static final int MAX_HEAD = 16 * 1024;
    static final int DEADLINE_SECONDS = 30;

    private final Path path;
    private final ServerSocketChannel server;
    private final GuestApiHandler handler;
    private final Semaphore open = new Semaphore(GuestApiHandler.MAX_OPEN_STREAMS);

    private GuestApiSocket(Path path, ServerSocketChannel server, GuestApiHandler handler) {
        this.path = path;
        this.server = server;
        this.handler = handler;
    }

    /**
     * Listens on {@code path} (a socket left there by an earlier node is replaced: the VM's QEMU
     * connects by path, per connection, so a re-adopted VM finds the new listener).
     */
    public static GuestApiSocket open(Path path, GuestApiHandler handler) throws IOException {
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw new IOException("cannot listen for the guest API on " + path + ": " + e.getMessage(), e);
        }
        GuestApiSocket s = new GuestApiSocket(path, server, handler);
        Thread.ofVirtual().name("guest-api-socket").start(s::accept);
        return s;
    }

    public Path path() {
        return path;
    }

    private void accept() {
        while (server.isOpen()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException closed) {
                return;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "guest API socket " + path + ": " + e.getMessage());
                return;
            }
            if (!open.tryAcquire()) {
                Thread.ofVirtual().start(() -> refuse(c));
                continue;
            }
            Thread.ofVirtual().name("guest-api-conn").start(() -> {
                try {
                    serve(c);
                } finally {
                    open.release();
                }
            });
        }
    }

    private void refuse(SocketChannel c) {
        try (c) {
            write(Channels.newOutputStream(c), GuestApiResponse.error(429, "too_many_streams", "more than "
                    + GuestApiHandler.MAX_OPEN_STREAMS + " guest-API connections at once from this VM"), false);
        } catch (IOException gone) {
            // the guest hung up first
        }
    }

    private void serve(SocketChannel c) {
        // A guest that sends half a request and waits holds nothing for long: the channel is closed under it.
        CompletableFuture.delayedExecutor(DEADLINE_SECONDS, TimeUnit.SECONDS).execute(() -> closeQuietly(c));
        try (c) {
            InputStream in = Channels.newInputStream(c);
            OutputStream out = Channels.newOutputStream(c);
            GuestApiResponse response;
            boolean head = false;
            try {
                GuestApiRequest request = HttpRequestReader.read(in, MAX_HEAD, GuestApiHandler.MAX_REQUEST_BODY);
                head = request.method().equals("HEAD");
                response = handler.handle(request);
                if (response.body().length > GuestApiHandler.MAX_RESPONSE_BODY) {
                    response = GuestApiResponse.error(502, "response_too_large", "the answer is larger than "
                            + GuestApiHandler.MAX_RESPONSE_BODY + " bytes");
                }
            } catch (HttpRequestReader.BadRequest e) {
                response = GuestApiResponse.error(e.status(), e.code(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "guest API request failed", e);
                response = GuestApiResponse.error(500, "internal", "the node could not answer this request");
            }
            write(out, response, head);
            // Closing with the request's rest unread would reset the connection under the answer.
            c.shutdownOutput();
            long drained = 0;
            byte[] sink = new byte[8192];
            for (int n; drained < 4 * MAX_HEAD && (n = in.read(sink)) > 0; ) drained += n;
        } catch (IOException gone) {
            // the guest hung up, or its deadline passed
        }
    }

    private static void write(OutputStream out, GuestApiResponse r, boolean head) throws IOException {
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status())).append("\r\n");
        for (Header header : r.wireHeaders()) h.append(header.name()).append(": ").append(header.value()).append("\r\n");
        h.append("connection: close\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!head) out.write(r.body());
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 411 -> "Length Required";
            case 413 -> "Payload Too Large";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 504 -> "Gateway Timeout";
            default -> "Status";
        };
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing a listener does not fail in a way that matters
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "guest API socket " + path + " left behind: " + e.getMessage());
        }
    }

    /** An HTTP/1.1 request read whole, within bounds: head, then a body of Content-Length bytes. */
    static final class HttpRequestReader {
        private HttpRequestReader() {}

        static final class BadRequest extends Exception {
            private final int status;
            private final String code;

            BadRequest(int status, String code, String message) {
                super(message);
                this.status = status;
                this.code = code;
            }

            int status() {
                return status;
            }

            String code() {
                return code;
            }
        }

        static GuestApiRequest read(InputStream in, int maxHead, int maxBody) throws IOException, BadRequest {
            List<String> lines = new ArrayList<>();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int total = 0;
            while (true) {
                int b = in.read();
                if (b < 0) throw new BadRequest(400, "bad_request", "the connection ended inside the request's head");
                if (++total > maxHead) throw new BadRequest(431, "head_too_large", "the request's head is over " + maxHead + " bytes");
                if (b == '\n') {
                    String l = line.toString(StandardCharsets.ISO_8859_1);
                    if (l.endsWith("\r")) l = l.substring(0, l.length() - 1);
                    line.reset();
                    if (l.isEmpty()) {
                        if (lines.isEmpty()) continue; // blank lines before a request line are allowed
                        break;
                    }
                    lines.add(l);
                } else {
                    line.write(b);
                }
            }
            String[] start = lines.getFirst().split(" ");
            if (start.length != 3 || !start[2].startsWith("HTTP/1.") || !start[1].startsWith("/")) {
                throw new BadRequest(400, "bad_request", "not an HTTP/1.x request line with an absolute path: '"
                        + lines.getFirst() + "'");
            }
            List<Header> headers = new ArrayList<>();
            long length = 0;
            for (String l : lines.subList(1, lines.size())) {
                int colon = l.indexOf(':');
                if (colon <= 0) throw new BadRequest(400, "bad_request", "a header line without a name: '" + l + "'");
                String name = l.substring(0, colon).strip();
                String value = l.substring(colon + 1).strip();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("transfer-encoding") && !value.equalsIgnoreCase("identity")) {
                    throw new BadRequest(411, "length_required", "send the body with a Content-Length, not " + value);
                }
                if (lower.equals("content-length")) {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new BadRequest(400, "bad_request", "Content-Length is not a number: '" + value + "'");
                    }
                    if (length < 0) throw new BadRequest(400, "bad_request", "Content-Length is negative");
                }
                headers.add(new Header(name, value));
            }
            if (length > maxBody) {
                throw new BadRequest(413, "payload_too_large", "the body is " + length + " bytes; the guest API takes at most "
                        + maxBody);
            }
            byte[] body = in.readNBytes((int) length);
            if (body.length < length) throw new BadRequest(400, "bad_request", "the connection ended inside the body");
            String target = start[1];
            int q = target.indexOf('?');
            return new GuestApiRequest(start[0], q < 0 ? target : target.substring(0, q), q < 0 ? "" : target.substring(q + 1),
                    headers, body);
        }
    }
}
