package dev.kiln.guest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Failures of one stream, with the real agent: the stream ends on both sides, the connection serves on. */
class StreamFailureTest {
    @TempDir
    static Path dir;
    static AgentProcess agent;
    static GuestConnection guest;

    @BeforeAll
    static void startAndConfigure() throws Exception {
        agent = AgentProcess.start(dir);
        guest = agent.connection;
        guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi")))).build());
    }

    @AfterAll
    static void stop() {
        agent.close();
    }

    /** What a web server's body stream does when the client sends a bad chunk or less than its Content-Length. */
    static InputStream brokenBody() {
        return new InputStream() {
            private int sent;

            @Override
            public int read() {
                if (sent++ < 3) return 'x';
                throw new IllegalStateException("the client sent 3 bytes of a 1000-byte body, then closed");
            }
        };
    }

    @Test
    void aBodyThatBreaksMidwayCancelsItsStreamOnTheAgent() {
        assertThatThrownBy(() -> guest.request(GuestRequest.get("/echo").withMethod("POST").withBody(brokenBody())))
                .isInstanceOf(GuestRequestBodyException.class)
                .hasRootCauseMessage("the client sent 3 bytes of a 1000-byte body, then closed")
                .satisfies(e -> assertThat(((GuestStreamException) e).errorCode()).isEqualTo(GuestErrorCode.BODY_FAILED));
        await().atMost(5, TimeUnit.SECONDS).until(() -> guest.inFlight() == 0);
        GuestResponse echo = guest.request(GuestRequest.post("/echo", "twelve bytes".getBytes(StandardCharsets.UTF_8)));
        assertThat(echo.status()).isEqualTo(200);
        assertThat(echo.bodyText()).contains("\"length\": 12");
    }

    @Test
    void moreBrokenBodiesThanTheAgentHasStreamsLeaveItServing() {
        // The agent accepts 256 open streams: had it kept the broken ones, it would refuse from the 257th.
        int streams = guest.hello().maxStreams();
        for (int i = 0; i < streams + 44; i++) {
            assertThatThrownBy(() -> guest.request(GuestRequest.get("/echo").withMethod("POST").withBody(brokenBody())
                    .withTimeout(Duration.ofSeconds(10)))).isInstanceOf(GuestRequestBodyException.class);
        }
        GuestResponse echo = guest.request(GuestRequest.post("/echo", "after".getBytes(StandardCharsets.UTF_8)));
        assertThat(echo.status()).isEqualTo(200);
        assertThat(guest.ping(Duration.ofSeconds(5))).isPositive();
    }

    @Test
    void aHeadTheAgentRefusesFailsThatRequestOnlyWithItsCode() {
        assertThatThrownBy(() -> guest.request(GuestRequest.get("/state").withHeader("bad name", "v")))
                .isInstanceOf(GuestRequestRefusedException.class)
                .satisfies(e -> assertThat(((GuestStreamException) e).errorCode()).isEqualTo(GuestErrorCode.BAD_REQUEST));
        assertThat(guest.isOpen()).isTrue();
        assertThat(guest.request(GuestRequest.get("/state")).status()).isEqualTo(200);
    }
}
