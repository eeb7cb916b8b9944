package dev.kiln.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A stand-in for the agent that speaks just enough of the protocol to test the host's own rules:
 * it says HELLO, answers PING and every REQUEST that arrives complete (END on the head) with an
 * empty 200, and ignores everything else, so a request with a body stays open.
 */
final class FakeAgent implements AutoCloseable {
    static final String HELLO = "{\"versions\":[1],\"agent\":\"fake\",\"capabilities\":[],\"max_streams\":8,"
            + "\"runtime\":{\"name\":null,\"hash\":null},\"boot\":{}}";

    final GuestConnection host;
    private final SocketChannel agent;

    private FakeAgent(GuestConnection host, SocketChannel agent) {
        this.host = host;
        this.agent = agent;
    }

    /** Starts the fake and the host's connection to it; {@code open} makes the connection from the host's end. */
    static FakeAgent start(Path dir, Function<SocketChannel, GuestConnection> open) throws Exception {
        Path sock = dir.resolve("fake.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            CompletableFuture<GuestConnection> host = CompletableFuture.supplyAsync(() -> {
                try {
                    return open.apply(SocketChannel.open(UnixDomainSocketAddress.of(sock)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            SocketChannel agent = server.accept();
            FrameWriter writer = new FrameWriter(agent);
            writer.write(Frame.of(FrameType.HELLO, 0, HELLO.getBytes(StandardCharsets.UTF_8)));
            Thread.ofVirtual().name("fake-agent").start(() -> serve(agent, writer));
            return new FakeAgent(host.get(10, TimeUnit.SECONDS), agent);
        }
    }

    private static void serve(SocketChannel agent, FrameWriter writer) {
        FrameReader reader = new FrameReader(agent);
        try {
            for (Frame f = reader.read(); f != null; f = reader.read()) {
                FrameType type = f.knownType();
                if (type == FrameType.PING) writer.write(Frame.of(FrameType.PONG, 0, f.payload()));
                if (type == FrameType.REQUEST && f.end()) {
                    writer.write(Frame.of(FrameType.RESPONSE, Frame.FLAG_END, f.stream(),
                            "{\"status\":200,\"headers\":[]}".getBytes(StandardCharsets.UTF_8)));
                }
            }
        } catch (IOException | GuestException e) {
            // the host closed the channel: the test is over
        }
    }

    @Override
    public void close() throws IOException {
        host.close();
        agent.close();
    }
}
