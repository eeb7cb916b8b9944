package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A handler that blocks its event loop makes every route of that VM time out; the node replaces
 * such a VM (two timeouts with nothing answered between them) instead of answering 504 to
 * everything until the idle stop. A merely slow handler, while other requests are answered,
 * leaves the VM alone.
 */
class WedgedProgramTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static TestNode node;
    static PublishedProgram wedge;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.withAgents(dir, new AgentVmLauncher(Duration.ZERO), c -> c);
        Path app = Path.of(WedgedProgramTest.class.getResource("/dev/kiln/node/apps/wedge").toURI());
        wedge = node.publish(app, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 2), "wedge");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String executionId() throws Exception {
        return node.node.pool().running(wedge.message()).orElseThrow().id();
    }

    @Test
    void aBlockedEventLoopGetsItsVmReplaced() throws Exception {
        assertThat(node.get(wedge.message(), "/ping").body()).isEqualTo("pong");
        String before = executionId();

        HttpResponse<String> blocked = node.get(wedge.message(), "/block");
        assertThat(blocked.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(blocked.body()).path("error").path("message").asText())
                .as("one timeout alone proves nothing").doesNotContain("replaced");
        assertThat(executionId()).isEqualTo(before);

        // The loop is still blocked: the next request times out too, with nothing answered between.
        HttpResponse<String> stuck = node.get(wedge.message(), "/ping");
        assertThat(stuck.statusCode()).isEqualTo(504);
        JsonNode error = JSON.readTree(stuck.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("program_timeout");
        assertThat(error.path("message").asText()).contains("its VM is replaced");

        long t0 = System.nanoTime();
        HttpResponse<String> next = node.get(wedge.message(), "/ping");
        assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
        assertThat(next.body()).isEqualTo("pong");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("answered by a fresh VM, not after a timeout")
                .isLessThan(Duration.ofSeconds(2));
        assertThat(executionId()).isNotEqualTo(before);
    }

    @Test
    void aSlowHandlerWhileOthersAreAnsweredKeepsItsVm() throws Exception {
        assertThat(node.get(wedge.message(), "/ping").body()).isEqualTo("pong");
        String before = executionId();

        CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return node.get(wedge.message(), "/slow");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // Keep the program visibly answering while /slow waits out its timeout.
        while (!slow.isDone()) {
            assertThat(node.get(wedge.message(), "/ping").statusCode()).isEqualTo(200);
            Thread.sleep(200);
        }
        HttpResponse<String> r = slow.get();
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).doesNotContain("replaced");
        assertThat(node.get(wedge.message(), "/ping").statusCode()).isEqualTo(200);
        assertThat(executionId()).isEqualTo(before);
    }
}
