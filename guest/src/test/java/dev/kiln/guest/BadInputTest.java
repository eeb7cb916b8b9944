package dev.kiln.guest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Garbage from the host never kills the agent: it answers with an ERROR and keeps serving. */
class BadInputTest {
    @TempDir
    static Path dir;
    static AgentProcess agent;
    static GuestConnection guest;
    /** A stream id the host has used and finished: the agent's answers on it are logged, not fatal. */
    static int usedId;

    static final String APP = """
            async def app(scope, receive, send):
                if scope["type"] != "http":
                    raise RuntimeError("no lifespan here")
                length = 0
                while True:
                    m = await receive()
                    length += len(m.get("body", b""))
                    if not m.get("more_body"):
                        break
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"ok %d" % length})
            """;

    @BeforeAll
    static void start() throws Exception {
        agent = AgentProcess.start(dir);
        guest = agent.connection;
        guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.plain("main:app", APP.getBytes(StandardCharsets.UTF_8))).build());
        assertStillServing();
        usedId = 1;
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    static void assertStillServing() {
        assertThat(guest.request(GuestRequest.get("/")).bodyText()).isEqualTo("ok 0");
    }

    static void expectError(String code) {
        await().atMost(Duration.ofSeconds(5)).until(() -> agent.logs.stream().anyMatch(l -> code.equals(l.kind())));
        assertStillServing();
        assertThat(agent.process.isAlive()).isTrue();
    }

    static byte[] frame(int length, int type, int flags, int stream, byte[] payload) {
        return ByteBuffer.allocate(10 + payload.length).putInt(length).put((byte) type).put((byte) flags).putInt(stream)
                .put(payload).array();
    }

    @Test
    void requestWithInvalidJson() {
        byte[] junk = "{not json".getBytes();
        guest.sendRaw(frame(junk.length, 0x10, 1, usedId, junk));
        expectError("bad_frame");
    }

    @Test
    void requestWithInvalidHead() {
        byte[] head = "{\"method\":\"GET\",\"path\":\"/a b\\r\\nX: y\",\"headers\":[]}".getBytes();
        guest.sendRaw(frame(head.length, 0x10, 1, usedId, head));
        expectError("bad_request");
    }

    @Test
    void unknownFrameType() {
        guest.sendRaw(frame(3, 0x7f, 0, 0, new byte[]{1, 2, 3}));
        expectError("unknown_frame_type");
    }

    @Test
    void oversizedFrameIsSkippedWithoutBuffering() {
        int size = (1 << 20) * 2 + 5;
        guest.sendRaw(frame(size, 0x10, 1, usedId, new byte[size]));
        expectError("frame_too_large");
    }

    @Test
    void dataForAStreamThatIsNotOpenIsDropped() {
        guest.sendRaw(frame(4, 0x13, 1, 99_999, new byte[]{1, 2, 3, 4}));
        assertStillServing();
    }

    @Test
    void requestOnStreamZero() {
        byte[] head = "{\"method\":\"GET\",\"path\":\"/\"}".getBytes();
        guest.sendRaw(frame(head.length, 0x10, 1, 0, head));
        expectError("bad_frame");
    }

    @Test
    void oversizedPing() {
        guest.sendRaw(frame(65, 0x20, 0, 0, new byte[65]));
        expectError("bad_frame");
    }

    @Test
    void bodyBeyondTheWindow() {
        byte[] head = "{\"method\":\"POST\",\"path\":\"/\"}".getBytes();
        int id = usedId;
        guest.sendRaw(frame(head.length, 0x10, 0, id, head));
        // One DATA frame larger than the whole initial window (256 KiB).
        byte[] chunk = new byte[300 * 1024];
        guest.sendRaw(frame(chunk.length, 0x13, 1, id, chunk));
        expectError("flow_control");
    }

    @Test
    void truncatedJsonInHaltIsRefusedAndTheAgentStays() {
        guest.sendRaw(frame(3, 0x30, 0, 0, "{\"g".getBytes()));
        expectError("bad_frame");
    }
}
