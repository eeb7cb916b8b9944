package dev.kiln.node.guestapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.guest.GuestApiRequest;
import dev.kiln.guest.GuestApiResponse;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest API as an instance reaches it: plain HTTP/1.1 over the node's Unix socket (QEMU's
 * forward hands each guest connection to it). Real sockets; the handler echoes what it was given.
 */
class GuestApiSocketTest {
    final CopyOnWriteArrayList<GuestApiRequest> seen = new CopyOnWriteArrayList<>();

    GuestApiSocket open(Path dir) throws IOException {
        return GuestApiSocket.open(dir.resolve("run/api.sock"), r -> {
            seen.add(r);
            return GuestApiResponse.json(r.method().equals("POST") ? 201 : 200, "{\"path\":\"" + r.path() + "\",\"query\":\""
                    + r.query() + "\",\"body\":" + r.body().length + "}");
        });
    }

    static String exchange(Path socket, byte[] request) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            c.write(ByteBuffer.wrap(request));
            c.shutdownOutput();
            return new String(readAll(c), StandardCharsets.ISO_8859_1);
        }
    }

    static byte[] readAll(SocketChannel c) throws IOException {
        return java.nio.channels.Channels.newInputStream(c).readAllBytes();
    }

    static String exchange(Path socket, String request) throws IOException {
        return exchange(socket, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void aRequestReachesTheHandlerWithItsPathQueryHeadersAndBodyAndTheAnswerClosesTheConnection(@TempDir Path dir)
            throws Exception {
        try (GuestApiSocket s = open(dir)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s.path()))).isEqualTo("rw-------");
            String get = exchange(s.path(), "GET /api/v0/messages.json?hashes=abc HTTP/1.1\r\nHost: 10.0.2.100\r\nX-Test: yes\r\n\r\n");
            assertThat(get).startsWith("HTTP/1.1 200 OK\r\n").contains("content-type: application/json\r\n")
                    .contains("connection: close\r\n").endsWith("{\"path\":\"/api/v0/messages.json\",\"query\":\"hashes=abc\",\"body\":0}");
            assertThat(seen.getFirst().header("x-test")).isEqualTo("yes");

            String post = exchange(s.path(), "POST /cache/k HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
            assertThat(post).startsWith("HTTP/1.1 201 Created\r\n").contains("content-length: ").endsWith("\"body\":5}");
            assertThat(new String(seen.get(1).body(), StandardCharsets.UTF_8)).isEqualTo("hello");

            String head = exchange(s.path(), "HEAD /properties HTTP/1.1\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n");
        }
    }

    @Test
    void malformedChunkedAndOversizedRequestsGetJsonErrorsWithoutReachingTheHandler(@TempDir Path dir) throws Exception {
        try (GuestApiSocket s = open(dir)) {
            assertThat(exchange(s.path(), "\u0000\u0001garbage\r\n\r\n")).startsWith("HTTP/1.1 400 ")
                    .contains("\"code\":\"bad_request\"");
            assertThat(exchange(s.path(), "POST /cache/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
                    .startsWith("HTTP/1.1 411 ").contains("Content-Length");
            assertThat(exchange(s.path(), "POST /cache/k HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"))
                    .startsWith("HTTP/1.1 413 ").contains("\"code\":\"payload_too_large\"");
            assertThat(exchange(s.path(), "POST /cache/k HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort")).startsWith("HTTP/1.1 400 ")
                    .contains("ended inside the body");
            assertThat(exchange(s.path(), "GET / HTTP/1.1\r\n" + "X: " + "a".repeat(GuestApiSocket.MAX_HEAD) + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 431 ");
            assertThat(seen).isEmpty();
        }
    }

    @Test
    void closingRemovesTheSocketAndAStaleOneIsReplacedOnOpen(@TempDir Path dir) throws Exception {
        Path path;
        try (GuestApiSocket s = open(dir)) {
            path = s.path();
        }
        assertThat(path).doesNotExist();
        Files.createDirectories(path.getParent());
        Files.writeString(path, "left by a killed node");
        try (GuestApiSocket s = open(dir)) {
            assertThat(exchange(s.path(), "GET /properties HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 ");
        }
    }
}
