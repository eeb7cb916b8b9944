package dev.kiln.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.RawHttp;
import dev.kiln.node.testing.TestNode;
import java.net.URI;
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
        String text = RawHttp.exchange(u.getHost(), u.getPort(), request);
        int split = text.indexOf("\r\n\r\n");
        assertThat(split).as("a complete response head in: %s", text).isPositive();
        String head = text.substring(0, split);
        return new Raw(Integer.parseInt(head.substring(9, 12)), head, text.substring(split + 4));
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
