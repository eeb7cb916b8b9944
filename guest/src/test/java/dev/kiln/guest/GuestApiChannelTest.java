package dev.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest API's transport (docs/guest-protocol.md §6.6) with the real agent as a process: the
 * test plays the program, speaking HTTP to the agent's Unix socket, and the host's handler answers
 * over API streams. One agent with the API and one without serve every check here.
 */
class GuestApiChannelTest {
    @TempDir
    static Path dir;
    static AgentProcess withApi;
    static AgentProcess withoutApi;
    static final AtomicReference<GuestApiRequest> last = new AtomicReference<>();
    static final byte[] BIG = new byte[700 * 1024];

    @BeforeAll
    static void start() throws Exception {
        new java.util.Random(7).nextBytes(BIG);
        withApi = AgentProcess.start(Files.createDirectories(dir.resolve("a")));
        withApi.connection.serveApi(r -> {
            last.set(r);
            return switch (r.path()) {
                case "/big" -> GuestApiResponse.of(200, "application/octet-stream", BIG);
                case "/echo" -> new GuestApiResponse(201, List.of(new Header("content-type", "text/plain"),
                        new Header("x-seen", r.method() + " " + r.query())), r.body());
                case "/empty" -> new GuestApiResponse(204, List.of(), new byte[0]);
                case "/boom" -> throw new IllegalStateException("a bug in the handler");
                default -> GuestApiResponse.error(404, "not_found", "no " + r.path());
            };
        });
        withApi.connection.configure(config("/tmp/socat-socket"));
        withoutApi = AgentProcess.start(Files.createDirectories(dir.resolve("b")));
        withoutApi.connection.configure(config(null));
    }

    static ProgramConfig config(String socket) throws IOException {
        return ProgramConfig.builder(ProgramConfig.Interface.ASGI, ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi"))))
                .itemHash("0f202000a3c07b1ba5aa02d4f2a93910977742be3e58345b78fe83bb925ba2b2")
                .guestApiSocket(socket).build();
    }

    @AfterAll
    static void stop() {
        if (withApi != null) withApi.close();
        if (withoutApi != null) withoutApi.close();
    }

    static Path socket(AgentProcess agent) {
        return agent.root.resolve("tmp/socat-socket");
    }

    record Answer(int status, String head, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** One raw HTTP exchange on a fresh connection; the body is read to the connection's end or content-length. */
    static Answer exchange(AgentProcess agent, byte[] request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket(agent)));
            ch.write(ByteBuffer.wrap(request));
            return read(Channels.newInputStream(ch));
        }
    }

    static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("connection ended in the head: " + head);
            head.write(b);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(h.substring(9, 12));
        int length = -1;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        byte[] body = length >= 0 ? in.readNBytes(length) : in.readAllBytes();
        return new Answer(status, h, body);
    }

    static byte[] http(String method, String target, byte[] body) {
        String head = method + " " + target + " HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n"
                + (body.length > 0 ? "content-length: " + body.length + "\r\n" : "") + "\r\n";
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    @Test
    void aRequestTravelsToTheHostWithMethodQueryHeadersAndBody() throws Exception {
        byte[] body = new byte[300 * 1024]; // over one window: the host must grant more
        new java.util.Random(1).nextBytes(body);
        Answer a = exchange(withApi, http("PUT", "/echo?x=1&y=%20", body));
        assertThat(a.status()).as(a.head()).isEqualTo(201);
        assertThat(a.head()).contains("x-seen: PUT x=1&y=%20");
        assertThat(a.body()).isEqualTo(body);
        assertThat(last.get().header("host")).isEqualTo("localhost");
    }

    @Test
    void aResponseLargerThanTheWindowArrivesWhole() throws Exception {
        Answer a = exchange(withApi, http("GET", "/big", new byte[0]));
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.body()).isEqualTo(BIG);
    }

    @Test
    void severalRequestsOnOneKeptAliveConnection() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket(withApi)));
            InputStream in = Channels.newInputStream(ch);
            List<Integer> statuses = new ArrayList<>();
            for (String path : List.of("/empty", "/nothing-here", "/empty")) {
                ch.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.1\r\nhost: localhost\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1)));
                statuses.add(read(in).status());
            }
            assertThat(statuses).containsExactly(204, 404, 204);
        }
    }

    @Test
    void garbageAndOversizedRequestsGetJsonErrorsAndTheAgentKeepsServing() throws Exception {
        Answer garbage = exchange(withApi, "this is not http\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(garbage.status()).isEqualTo(400);
        assertThat(garbage.text()).contains("bad_request");
        assertThat(garbage.head()).contains("content-type: application/json");

        Answer huge = exchange(withApi, ("POST /echo HTTP/1.1\r\ncontent-length: " + (16 << 20) + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        assertThat(huge.status()).isEqualTo(413);
        assertThat(huge.text()).contains("request_too_large");

        Answer sentWhole = exchange(withApi, http("PUT", "/echo", new byte[(1 << 20) + 1]));
        assertThat(sentWhole.status()).as("a client that sends the whole body still reads the answer").isEqualTo(413);

        Answer chunked = exchange(withApi, "POST /echo HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        assertThat(chunked.status()).isEqualTo(411);

        Answer longLine = exchange(withApi, ("GET /" + "a".repeat(9000) + " HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        assertThat(longLine.status()).isEqualTo(431);

        Answer bug = exchange(withApi, http("GET", "/boom", new byte[0]));
        assertThat(bug.status()).isEqualTo(500);
        assertThat(bug.text()).contains("\"internal\"").doesNotContain("IllegalStateException");

        assertThat(exchange(withApi, http("GET", "/empty", new byte[0])).status()).as("still serving").isEqualTo(204);
        assertThat(withApi.connection.isOpen()).isTrue();
        assertThat(withApi.connection.request(GuestRequest.get("/state")).status()).as("and the program too").isEqualTo(200);
    }

    @Test
    void theProgramFindsTheSocketWhereAlephProgramsLook() {
        var env = withApi.connection.request(GuestRequest.get("/env").withQuery("name=ALEPH_API_UNIX_SOCKET"));
        assertThat(env.bodyText()).isEqualTo(socket(withApi).toString());
        assertThat(withApi.connection.request(GuestRequest.get("/env").withQuery("name=ALEPH_API_HOST")).bodyText())
                .isEqualTo("http://localhost");
        assertThat(withoutApi.connection.request(GuestRequest.get("/env").withQuery("name=ALEPH_API_UNIX_SOCKET")).bodyText())
                .as("no variable without the API").isEqualTo("<unset>");
    }

    @Test
    void aProgramWithoutTheApiHasNoSocket() {
        assertThat(socket(withoutApi)).doesNotExist();
        assertThat(withoutApi.connection.hello().capabilities()).contains("guest-api");
    }

    @Test
    void theHostRefusesApiStreamsWhenItServesNoApi() throws Exception {
        // A second agent configured with the socket but whose host set no handler (the default).
        try (AgentProcess agent = AgentProcess.start(Files.createDirectories(dir.resolve("c")))) {
            agent.connection.configure(config("/tmp/socat-socket"));
            Answer a = exchange(agent, http("GET", "/api/v0/messages.json", new byte[0]));
            assertThat(a.status()).isEqualTo(403);
            assertThat(a.text()).contains("guest_api_disabled");
        }
    }
}
