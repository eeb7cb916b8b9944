package dev.kiln.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A stand-in for an aleph API server's message feed ({@code /api/ws0/messages}): the aleph network
 * cannot be reached from these machines, so tests run this minimal RFC 6455 server over a real
 * TCP socket. It completes the opening handshake, sends text frames (whole or in fragments) to
 * every connected client, answers pings and close frames, and can drop its clients abruptly to
 * exercise reconnects. Any other request gets 404, as a feed-less API would answer.
 */
public final class TestAlephFeed implements AutoCloseable {
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final ServerSocket server;
    private final List<Socket> clients = new CopyOnWriteArrayList<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Long> upgradeAttemptsNanos = new CopyOnWriteArrayList<>();
    private volatile boolean refuseUpgrades;
    private volatile boolean closed;

    private TestAlephFeed(ServerSocket server) {
        this.server = server;
    }

    public static TestAlephFeed start() throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        TestAlephFeed feed = new TestAlephFeed(s);
        Thread.ofVirtual().name("test-aleph-feed").start(feed::acceptLoop);
        return feed;
    }

    /** The API's base URL, as a node's remote. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** Request lines of every HTTP request so far (method, target, version). */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    /** When each WebSocket upgrade was asked for (nanoTime), refused or not. */
    public List<Long> upgradeAttempts() {
        return List.copyOf(upgradeAttemptsNanos);
    }

    /** From now on answer upgrades with 503, as an API that is down. */
    public void refuseUpgrades(boolean refuse) {
        refuseUpgrades = refuse;
    }

    public int connected() {
        return (int) clients.stream().filter(c -> !c.isClosed()).count();
    }

    public void awaitClients(int n, Duration timeout) throws TimeoutException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (connected() < n) {
            if (System.nanoTime() > end) throw new TimeoutException("no WebSocket client connected within " + timeout);
            Thread.sleep(20);
        }
    }

    /** One text frame to every connected client. */
    public void send(String text) throws IOException {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        for (Socket c : clients) if (!c.isClosed()) writeFrame(c, true, 0x1, payload);
    }

    /** The text in {@code parts} frames: a first text frame, then continuations, the last one FIN. */
    public void sendFragmented(String text, int parts) throws IOException {
        byte[] all = text.getBytes(StandardCharsets.UTF_8);
        int step = Math.max(1, all.length / parts);
        for (Socket c : clients) {
            if (c.isClosed()) continue;
            int off = 0;
            boolean first = true;
            while (off < all.length) {
                int n = Math.min(step, all.length - off);
                boolean last = off + n >= all.length;
                byte[] part = java.util.Arrays.copyOfRange(all, off, off + n);
                writeFrame(c, last, first ? 0x1 : 0x0, part);
                first = false;
                off += n;
            }
        }
    }

    /** Closes every client's TCP connection without a close frame (a network failure). */
    public void dropClients() throws IOException {
        for (Socket c : clients) c.close();
        clients.clear();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try {
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            List<String> head = readHead(in);
            if (head.isEmpty()) {
                s.close();
                return;
            }
            requests.add(head.getFirst());
            String key = null;
            boolean upgrade = false;
            for (String h : head.subList(1, head.size())) {
                int colon = h.indexOf(':');
                if (colon < 0) continue;
                String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).trim();
                if (name.equals("sec-websocket-key")) key = value;
                if (name.equals("upgrade") && value.equalsIgnoreCase("websocket")) upgrade = true;
            }
            String target = head.getFirst().split(" ")[1];
            OutputStream out = s.getOutputStream();
            if (!upgrade || key == null || !target.startsWith("/api/ws0/messages")) {
                out.write(("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n"
                        + "Connection: close\r\n\r\n{\"error\":\"not found\"}").getBytes(StandardCharsets.US_ASCII));
                s.close();
                return;
            }
            upgradeAttemptsNanos.add(System.nanoTime());
            if (refuseUpgrades) {
                out.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                s.close();
                return;
            }
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            clients.add(s);
            readFrames(s, in);
        } catch (Exception e) {
            // the client went away; nothing to tell anyone
        } finally {
            clients.remove(s);
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** Client frames: masked (RFC 6455 §5.3); pings answered, a close echoed, data ignored. */
    private void readFrames(Socket s, InputStream in) throws IOException {
        while (true) {
            int b0 = in.read();
            int b1 = in.read();
            if (b0 < 0 || b1 < 0) return;
            int opcode = b0 & 0x0f;
            long len = b1 & 0x7f;
            if (len == 126) len = (in.read() << 8) | in.read();
            else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++) len = (len << 8) | in.read();
            }
            byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : new byte[4];
            byte[] payload = in.readNBytes((int) len);
            for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
            if (opcode == 0x8) {
                writeFrame(s, true, 0x8, payload.length >= 2 ? java.util.Arrays.copyOf(payload, 2) : new byte[0]);
                return;
            }
            if (opcode == 0x9) writeFrame(s, true, 0xA, payload);
        }
    }

    private static void writeFrame(Socket s, boolean fin, int opcode, byte[] payload) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | opcode);
        if (payload.length < 126) {
            f.write(payload.length);
        } else if (payload.length < 65536) {
            f.write(126);
            f.write(payload.length >>> 8);
            f.write(payload.length & 0xff);
        } else {
            f.write(127);
            long n = payload.length;
            for (int i = 7; i >= 0; i--) f.write((int) (n >>> (8 * i)) & 0xff);
        }
        f.write(payload);
        synchronized (s) {
            OutputStream out = s.getOutputStream();
            out.write(f.toByteArray());
            out.flush();
        }
    }

    private static List<String> readHead(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        for (int c = in.read(); c >= 0; c = in.read()) {
            if (prev == '\r' && c == '\n') {
                byte[] l = line.toByteArray();
                String text = new String(l, 0, l.length - 1, StandardCharsets.ISO_8859_1);
                if (text.isEmpty()) return lines;
                lines.add(text);
                line.reset();
                prev = -1;
                continue;
            }
            line.write(c);
            prev = c;
            if (line.size() > 16 * 1024) throw new IOException("header line too long");
        }
        return List.of();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        dropClients();
    }

    /** Waits until {@code n} upgrades have been asked for. */
    public void awaitUpgradeAttempts(int n, Duration timeout) throws TimeoutException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (upgradeAttemptsNanos.size() < n) {
            if (System.nanoTime() > end) throw new TimeoutException(upgradeAttemptsNanos.size() + " upgrade attempts, not " + n);
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
