package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The host treats the guest as untrusted: a misbehaving "agent" (here a fake) gets the connection closed. */
class HostRobustnessTest {
    @TempDir
    Path dir;

    private static final String HELLO = "{\"versions\":[1],\"agent\":\"fake\",\"capabilities\":[],\"max_streams\":8,"
            + "\"runtime\":{\"name\":null,\"hash\":null},\"boot\":{}}";

    /** Opens a connection to a fake agent; returns the fake's end, the host's connection via the future. */
    private SocketChannel fakeAgent(CompletableFuture<GuestConnection> host, String hello) throws Exception {
        Path sock = dir.resolve("fake.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            CompletableFuture.runAsync(() -> {
                try {
                    host.complete(GuestConnection.connect(sock, GuestConnection.Options.defaults()
                            .withHelloTimeout(Duration.ofSeconds(5)).withCallTimeout(Duration.ofSeconds(5))));
                } catch (Throwable e) {
                    host.completeExceptionally(e);
                }
            });
            SocketChannel agent = server.accept();
            new FrameWriter(agent).write(Frame.of(FrameType.HELLO, 0, hello.getBytes()));
            return agent;
        }
    }

    @Test
    void incompatibleVersionIsRefusedAtHandshake() throws Exception {
        CompletableFuture<GuestConnection> host = new CompletableFuture<>();
        try (SocketChannel _ = fakeAgent(host, HELLO.replace("[1]", "[7]"))) {
            assertThatThrownBy(() -> host.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(GuestProtocolException.class)
                    .hasMessageContaining("[7]");
        }
    }

    @Test
    void oversizedFrameFromTheGuestClosesTheConnectionAndFailsInFlightCalls() throws Exception {
        CompletableFuture<GuestConnection> host = new CompletableFuture<>();
        try (SocketChannel agent = fakeAgent(host, HELLO)) {
            GuestConnection c = host.get(10, TimeUnit.SECONDS);
            CompletableFuture<GuestResponse> pending = c.requestAsync(GuestRequest.get("/"));
            agent.write(ByteBuffer.allocate(10).putInt(64 << 20).put((byte) 0x13).put((byte) 0).putInt(1).flip());
            assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(GuestProtocolException.class);
            assertThat(c.isOpen()).isFalse();
        }
    }

    @Test
    void responseForAStreamTheHostNeverOpenedIsAViolation() throws Exception {
        CompletableFuture<GuestConnection> host = new CompletableFuture<>();
        try (SocketChannel agent = fakeAgent(host, HELLO)) {
            GuestConnection c = host.get(10, TimeUnit.SECONDS);
            new FrameWriter(agent).write(Frame.of(FrameType.RESPONSE, 0, 41, "{\"status\":200,\"headers\":[]}".getBytes()));
            assertThatThrownBy(() -> c.ping(Duration.ofSeconds(5))).isInstanceOf(GuestChannelClosedException.class);
            assertThat(c.isOpen()).isFalse();
        }
    }

    @Test
    void dataBeyondTheGrantedWindowIsAViolation() throws Exception {
        CompletableFuture<GuestConnection> host = new CompletableFuture<>();
        try (SocketChannel agent = fakeAgent(host, HELLO)) {
            GuestConnection c = host.get(10, TimeUnit.SECONDS);
            CompletableFuture<GuestResponse> pending = c.requestAsync(GuestRequest.get("/"));
            FrameWriter w = new FrameWriter(agent);
            w.write(Frame.of(FrameType.RESPONSE, 0, 1, "{\"status\":200,\"headers\":[]}".getBytes()));
            // One frame larger than the whole initial window: no consumer can grant more window
            // before it arrives (two smaller frames raced the test's own reads and hung CI).
            w.write(Frame.of(FrameType.DATA, 0, 1, new byte[Frame.INITIAL_WINDOW + 1]));
            GuestResponse r = pending.get(5, TimeUnit.SECONDS);
            CompletableFuture<byte[]> body = CompletableFuture.supplyAsync(r::readAllBytes);
            assertThatThrownBy(() -> body.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(GuestProtocolException.class)
                    .hasMessageContaining("overran");
            assertThat(c.isOpen()).isFalse();
        }
    }

    @Test
    void unknownFrameTypesFromTheGuestAreIgnored() throws Exception {
        CompletableFuture<GuestConnection> host = new CompletableFuture<>();
        try (SocketChannel agent = fakeAgent(host, HELLO)) {
            GuestConnection c = host.get(10, TimeUnit.SECONDS);
            FrameWriter w = new FrameWriter(agent);
            // On stream 0 and on a stream the host never opened: unknown types are not even checked.
            w.write(new Frame(0x77, 0, 0, new byte[]{1}));
            w.write(new Frame(0x78, Frame.FLAG_END, 41, new byte[]{2}));
            // The reader handles frames in order: the PING's answer proves it went past both.
            CompletableFuture<Duration> rtt = CompletableFuture.supplyAsync(() -> c.ping(Duration.ofSeconds(5)));
            FrameReader r = new FrameReader(agent);
            assertThat(r.read().knownType()).isEqualTo(FrameType.HELLO);
            Frame ping = r.read();
            assertThat(ping.knownType()).isEqualTo(FrameType.PING);
            w.write(Frame.of(FrameType.PONG, 0, ping.payload()));
            assertThat(rtt.get(5, TimeUnit.SECONDS)).isPositive();
            assertThat(c.isOpen()).isTrue();
        }
    }
}
