package dev.kiln.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests the webserver refuses before routing (an oversized header block, an overlong URL, a
 * malformed head) still get the node's JSON error shape, sent over a raw socket as a careless
 * client would.
 */
class DirectErrorsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.withAgents(dir, new AgentVmLauncher(Duration.ZERO), c -> c);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    record Raw(int status, String head, String body) {
    }

    static Raw send(String request) throws Exception {
        URI u = node.uri("/");
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (SocketException refusedMidWrite) {
                // the server may answer and close before it has read all we send
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                    if (complete(got.toString(StandardCharsets.ISO_8859_1))) break;
                }
            } catch (SocketException reset) {
                // a reset after the answer still leaves the answer in what we read
            }
            String text = got.toString(StandardCharsets.ISO_8859_1);
            int split = text.indexOf("\r\n\r\n");
            assertThat(split).as("a complete response head in: %s", text).isPositive();
            String head = text.substring(0, split);
            int status = Integer.parseInt(head.substring(9, 12));
            return new Raw(status, head, text.substring(split + 4));
        }
    }

    private static boolean complete(String text) {
        int split = text.indexOf("\r\n\r\n");
        if (split < 0) return false;
        String head = text.substring(0, split).toLowerCase();
        int at = head.indexOf("content-length:");
        if (at < 0) return false;
        int end = head.indexOf("\r\n", at);
        long length = Long.parseLong(head.substring(at + 15, end < 0 ? head.length() : end).strip());
        return text.length() - split - 4 >= length;
    }

    static JsonNode error(Raw r) throws Exception {
        assertThat(r.head().toLowerCase()).contains("content-type: application/json");
        return JSON.readTree(r.body()).path("error");
    }

    @Test
    void anOversizedHeaderBlockIsAJsonError() throws Exception {
        String big = "x".repeat(70 * 1024);
        Raw r = send("GET /about/executions/list HTTP/1.1\r\nHost: a\r\nX-Big: " + big + "\r\n\r\n");
        // Helidon answers an oversized header block as a plain 400 and says nothing more.
        assertThat(r.status()).isIn(400, 431);
        JsonNode e = error(r);
        assertThat(e.path("code").asText()).isIn("headers_too_large", "bad_request");
        assertThat(e.path("message").asText()).contains("header fields are larger than the node accepts").doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void anOverlongUrlIsAJsonError() throws Exception {
        String path = "/vm/" + "a".repeat(20_000);
        Raw r = send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(r.status()).isEqualTo(414);
        JsonNode e = error(r);
        assertThat(e.path("code").asText()).isEqualTo("uri_too_long");
        assertThat(e.path("message").asText()).isNotBlank().doesNotContain("Exception");
    }

    @Test
    void aMalformedRequestHeadIsAJsonError() throws Exception {
        Raw r = send("GET /about/executions/list HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n");
        assertThat(r.status()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("bad_request");
    }

    @Test
    void theNodeStillAnswersAfterwards() throws Exception {
        send("GET /" + "b".repeat(20_000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(node.get("/about/executions/list").statusCode()).isEqualTo(200);
    }
}
