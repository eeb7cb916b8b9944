package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.persistent.RestartHistory;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent program on real QEMU (TCG), allocated through the operator API (POST
 * /control/allocations): started by the allocation, not by a request; not stopped by a short idle
 * timeout; restarted after its QEMU is SIGKILLed, the restart visible in /about/executions/list;
 * its console through /control/machine/<hash>/logs; run again by a node restarted on the home
 * (the recorded allocation); stopped through the API, it stays stopped under a new allocation
 * without it. One program, its boots shared by the ordered checks.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PersistentProgramTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration BOOT = Duration.ofMinutes(3);

    @TempDir
    static Path dir;
    static TestNode node;
    static ItemHash program;

    @BeforeAll
    static void start() throws Exception {
        // An idle timeout far below the checks' length: a persistent VM must outlive it.
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofSeconds(2)));
        Path code = SampleProgram.writeTo(Files.createDirectories(dir.resolve("src")));
        program = node.publisher.publish(new ProgramSpec(code, Encoding.ZIP, SampleProgram.ENTRYPOINT, CodeInterface.ASGI,
                node.runtime, "test", Resources.of(1, 128, 10), Map.of(), "kept", false, true)).message();
        String body = "{\"persistent_vms\": [\"" + program.value() + "\"], \"instances\": []}";
        var refused = node.send(java.net.http.HttpRequest.newBuilder(node.uri("/control/allocations"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
        assertThat(refused.statusCode()).as("no token: 401").isEqualTo(401);
        assertThat(node.node.pool().persistent()).as("and nothing was started").isEmpty();
        var allocated = node.operator("POST", "/control/allocations", body);
        assertThat(allocated.statusCode()).as(allocated.body()).isEqualTo(200);
        assertThat(JSON.readTree(allocated.body()).path("started").get(0).asText()).isEqualTo(program.value());
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static Execution serving() {
        await().atMost(BOOT).pollInterval(Duration.ofMillis(200)).until(() -> node.node.pool().running(program).isPresent());
        return node.node.pool().running(program).orElseThrow();
    }

    static JsonNode persistentEntry() throws Exception {
        JsonNode list = JSON.readTree(node.get("/about/executions/list").body()).path("persistent");
        for (JsonNode n : list) if (n.path("program").asText().equals(program.value())) return n;
        return null;
    }

    @Test
    @Order(1)
    void answersWithoutAFirstRequestBootAndOutlivesTheIdleTimeout() throws Exception {
        Execution first = serving();
        assertThat(first.requestsServed()).as("serving before any request reached it").isZero();
        Thread.sleep(5_000);
        assertThat(node.node.pool().running(program)).as("not stopped for idleness").containsSame(first);
        var r = node.get(program, "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(first.requestsServed()).as("the request reached the VM booted by the pool").isEqualTo(1);
        assertThat(persistentEntry().path("status").asText()).isEqualTo("running");
    }

    @Test
    @Order(2)
    void isRestartedAfterItsQemuIsKilled() throws Exception {
        Execution before = serving();
        long pid = before.vm().pid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await().atMost(BOOT).pollInterval(Duration.ofMillis(200)).until(() ->
                node.node.pool().running(program).filter(e -> e != before).isPresent());
        Execution after = node.node.pool().running(program).orElseThrow();
        assertThat(after.vm().pid()).isNotEqualTo(pid);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        JsonNode entry = persistentEntry();
        assertThat(entry.path("restarts").asInt()).isEqualTo(1);
        assertThat(entry.path("status").asText()).isEqualTo("running");
        // Whichever the node noticed first: the guest channel closing or the VMM's exit.
        assertThat(entry.path("last_failure").asText()).containsAnyOf("guest lost", "exited");
        assertThat(node.get(program, "/").statusCode()).isEqualTo(200);
    }

    @Test
    @Order(3)
    void itsLogsAreTheConsolesOfItsVms() throws Exception {
        Execution now = serving();
        var r = node.operator("GET", "/control/machine/" + program.value() + "/logs", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).as("the VM killed and the one serving now")
                .contains("--- " + now.id() + ", started").contains(", ended ").contains("[kernel] ").contains("[init] ");
        var tail = node.operator("GET", "/control/machine/" + program.value() + "/logs?max_bytes=300", null);
        assertThat(tail.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(300);
    }

    @Test
    @Order(4)
    void aNodeStartedOnTheHomeRunsItWithoutARequest() throws Exception {
        node.close();
        node = null;
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofSeconds(2)));
        Execution e = serving();
        assertThat(e.requestsServed()).isZero();
        assertThat(node.get(program, "/").statusCode()).isEqualTo(200);
    }

    @Test
    @Order(5)
    void stoppedThroughTheApiItStopsAndStaysStopped() throws Exception {
        Execution last = serving();
        var r = node.operator("POST", "/control/machine/" + program.value() + "/stop", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(1)).until(() -> last.vm().pid() > 0 && !ProcessHandle.of(last.vm().pid())
                .map(ProcessHandle::isAlive).orElse(false));
        var again = node.operator("POST", "/control/allocations", "{\"persistent_vms\": [], \"instances\": []}");
        assertThat(again.statusCode()).isEqualTo(200);
        Thread.sleep(4_000);
        assertThat(node.node.pool().running(program)).isEmpty();
        assertThat(node.node.pool().persistent()).doesNotContainKey(program);
        assertThat(persistentEntry()).isNull();
        assertThat(JSON.readTree(node.get("/about/allocations").body()).path("machines")).isEmpty();
    }

    @Test
    @Order(0)
    void backoffDoublesAndGivesUpAfterTooManyFailures() {
        var policy = dev.kiln.node.persistent.RestartPolicy.DEFAULT;
        assertThat(policy.delay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.delay(3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(policy.delay(20)).isEqualTo(Duration.ofSeconds(60));
        RestartHistory h = new RestartHistory(policy);
        var t = java.time.Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 1; i < 5; i++) {
            RestartHistory.Decision d = h.failed(t.plusSeconds(i), "died");
            assertThat(d.gaveUp()).isFalse();
            assertThat(h.view().nextAttempt()).isEqualTo(t.plusSeconds(i).plus(policy.delay(i)));
        }
        assertThat(h.failed(t.plusSeconds(5), "died").gaveUp()).isTrue();
        assertThat(h.view().status()).isEqualTo(RestartHistory.Status.FAILED);
        assertThat(h.view().restarts()).isEqualTo(4);
        RestartHistory spread = new RestartHistory(policy);
        for (int i = 0; i < 10; i++) assertThat(spread.failed(t.plus(Duration.ofMinutes(3L * i)), "died").gaveUp()).isFalse();
    }
}
