package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Resources;
import dev.kiln.node.control.AllocationFile;
import dev.kiln.node.control.OperatorToken;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator API over real HTTP, on a node whose VMs are the real guest agent run as host
 * processes (AgentVmLauncher): authentication of every /control path, allocation and convergence,
 * the per-machine operations and their errors, and a node restart converging to the recorded
 * allocation. PersistentProgramTest drives the same API with QEMU.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperatorApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration START = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static AgentVmLauncher launcher;
    static TestNode node;
    static ItemHash kept;
    static ItemHash onDemand;

    @BeforeAll
    static void start() throws Exception {
        launcher = new AgentVmLauncher(Duration.ZERO);
        node = TestNode.withAgents(dir.resolve("home"), launcher, c -> c.withIdleTimeout(Duration.ofSeconds(2)));
        Path code = SampleProgram.writeTo(Files.createDirectories(dir.resolve("src")));
        kept = node.publisher.publish(new ProgramSpec(code, Encoding.ZIP, SampleProgram.ENTRYPOINT, CodeInterface.ASGI,
                node.runtime, "test", Resources.of(1, 128, 10), Map.of(), "kept", false, true)).message();
        onDemand = node.publishSample("ondemand", Resources.of(1, 128, 10)).message();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String allocation(ItemHash... persistent) {
        StringBuilder b = new StringBuilder("{\"persistent_vms\": [");
        for (int i = 0; i < persistent.length; i++) b.append(i == 0 ? "" : ", ").append('"').append(persistent[i].value()).append('"');
        return b.append("], \"instances\": []}").toString();
    }

    static HttpResponse<String> call(String method, String path, String body, String header, String value) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(node.uri(path)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (header != null) r.header(header, value);
        return node.send(r);
    }

    static String token() throws Exception {
        return OperatorToken.read(node.home.root()).orElseThrow();
    }

    static Execution serving(ItemHash program) {
        await().atMost(START).pollInterval(Duration.ofMillis(100)).until(() -> node.node.pool().running(program).isPresent());
        return node.node.pool().running(program).orElseThrow();
    }

    @Test
    @Order(1)
    void everyControlPathRefusesCallersWithoutTheTokenAndChangesNothing() throws Exception {
        String h = kept.value();
        List<String[]> endpoints = List.of(
                new String[] {"POST", "/control/allocations", allocation(kept)},
                new String[] {"GET", "/control/allocations", null},
                new String[] {"POST", "/control/allocation/notify", "{\"instance\": \"" + h + "\"}"},
                new String[] {"GET", "/control/machines", null},
                new String[] {"POST", "/control/machine/" + h + "/stop", null},
                new String[] {"POST", "/control/machine/" + h + "/reboot", null},
                new String[] {"POST", "/control/machine/" + h + "/erase", null},
                new String[] {"GET", "/control/machine/" + h + "/logs", null},
                new String[] {"GET", "/control/nonsense", null});
        String[][] credentials = {{null, null}, {"Authorization", "Bearer not-the-token"},
                {"X-Auth-Signature", "not-the-token"}, {"Authorization", token()}};
        for (String[] e : endpoints) {
            for (String[] c : credentials) {
                HttpResponse<String> r = call(e[0], e[1], e[2], c[0], c[1]);
                assertThat(r.statusCode()).as(e[0] + " " + e[1] + " with " + c[0]).isEqualTo(401);
                JsonNode error = JSON.readTree(r.body()).path("error");
                assertThat(error.path("code").asText()).isEqualTo("unauthorized");
                assertThat(error.path("message").asText()).contains("operator-token");
                assertThat(r.body()).doesNotContain(token());
            }
        }
        Thread.sleep(500);
        assertThat(node.node.pool().persistent()).isEmpty();
        assertThat(node.node.pool().running(kept)).isEmpty();
        assertThat(node.home.dir("control").resolve(AllocationFile.NAME)).doesNotExist();
        // /about/allocations is public.
        HttpResponse<String> about = node.get("/about/allocations");
        assertThat(about.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(about.body()).path("machines")).isEmpty();
    }

    @Test
    @Order(2)
    void anAllocatedPersistentProgramRunsWithoutARequest() throws Exception {
        // aleph's scheme: X-Auth-Signature carrying the token.
        HttpResponse<String> r = call("POST", "/control/allocations", allocation(kept), "X-Auth-Signature", token());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("success").asBoolean()).isTrue();
        assertThat(body.path("successful").toString()).contains(kept.value());
        assertThat(body.path("started").toString()).contains(kept.value());
        assertThat(body.path("failing")).isEmpty();
        Execution e = serving(kept);
        assertThat(e.requestsServed()).as("started by the allocation, not by a request").isZero();

        JsonNode about = JSON.readTree(node.get("/about/allocations").body());
        assertThat(about.path("allocation").path("persistent_vms").get(0).asText()).isEqualTo(kept.value());
        JsonNode m = about.path("machines").get(0);
        assertThat(m.path("message").asText()).isEqualTo(kept.value());
        assertThat(m.path("kind").asText()).isEqualTo("persistent_vms");
        await().atMost(START).until(() -> JSON.readTree(node.get("/about/allocations").body())
                .path("machines").get(0).path("state").asText().equals("running"));
        assertThat(about.toString()).doesNotContain(token());

        JsonNode recorded = JSON.readTree(node.operator("GET", "/control/allocations", null).body());
        assertThat(recorded.path("persistent_vms").get(0).asText()).isEqualTo(kept.value());
        assertThat(node.get(kept, "/").statusCode()).isEqualTo(200);
        assertThat(e.requestsServed()).isEqualTo(1);
    }

    @Test
    @Order(3)
    void refusesWhatItCannotRunPerHashOrAsAWhole() throws Exception {
        ItemHash unknown = ItemHash.parse("e".repeat(64));
        HttpResponse<String> some = node.operator("POST", "/control/allocations", allocation(kept, onDemand, unknown));
        assertThat(some.statusCode()).as(some.body()).isEqualTo(207);
        JsonNode body = JSON.readTree(some.body());
        assertThat(body.path("success").asBoolean()).isFalse();
        assertThat(body.path("errors").path(onDemand.value()).asText()).contains("not persistent");
        assertThat(body.path("errors").path(unknown.value()).asText()).startsWith("program_not_found");
        assertThat(body.path("successful").toString()).contains(kept.value());
        assertThat(body.path("started")).as("the kept program was running already").isEmpty();

        HttpResponse<String> instances = node.operator("POST", "/control/allocations",
                "{\"persistent_vms\": [], \"instances\": [\"" + kept.value() + "\"]}");
        assertThat(instances.statusCode()).as(instances.body()).isEqualTo(400);
        assertThat(JSON.readTree(instances.body()).path("error").path("code").asText()).isEqualTo("invalid_program");
        assertThat(instances.body()).contains("is a message for persistent_vms, not instances");
        HttpResponse<String> unknownField = node.operator("POST", "/control/allocations", "{\"vms\": []}");
        assertThat(unknownField.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(unknownField.body()).path("error").path("details").get(0).path("path").asText()).isEqualTo("vms");
        assertThat(node.operator("POST", "/control/allocations", "not json").statusCode()).isEqualTo(400);
        assertThat(node.node.pool().running(kept)).as("refused bodies changed nothing").isPresent();

        // The refused hashes stay in the recorded allocation (a restarted node tries them again); stopping one takes it out.
        assertThat(node.operator("POST", "/control/machine/" + unknown.value() + "/stop", null).statusCode()).isEqualTo(200);
        assertThat(node.node.allocations().current().all()).doesNotContain(unknown).contains(kept, onDemand);
        ItemHash never = ItemHash.parse("f".repeat(64));
        assertThat(node.operator("POST", "/control/machine/" + never.value() + "/stop", null).statusCode()).isEqualTo(404);
        assertThat(node.operator("POST", "/control/machine/not-a-hash/stop", null).statusCode()).isEqualTo(400);
        assertThat(node.operator("POST", "/control/machine/" + kept.value() + "/explode", null).statusCode()).isEqualTo(404);
        HttpResponse<String> wrongMethod = node.operator("GET", "/control/machine/" + kept.value() + "/stop", null);
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("POST");
        assertThat(node.operator("GET", "/control/machine/" + kept.value() + "/logs?max_bytes=0", null).statusCode()).isEqualTo(400);
    }

    @Test
    @Order(4)
    void rebootReplacesTheVmAndLogsNameEachOne() throws Exception {
        Execution before = serving(kept);
        HttpResponse<String> r = node.operator("POST", "/control/machine/" + kept.value() + "/reboot", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await().atMost(START).pollInterval(Duration.ofMillis(100)).until(() ->
                node.node.pool().running(kept).filter(e -> e != before).isPresent());
        Execution after = node.node.pool().running(kept).orElseThrow();
        assertThat(after.id()).isNotEqualTo(before.id());
        assertThat(node.node.pool().persistent().get(kept).restarts()).as("an operator's reboot is not a failure").isZero();

        HttpResponse<String> logs = node.operator("GET", "/control/machine/" + kept.value() + "/logs", null);
        assertThat(logs.statusCode()).isEqualTo(200);
        assertThat(logs.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(logs.body()).contains("--- " + after.id()).contains("--- " + before.id());
    }

    @Test
    @Order(5)
    void aStoppedMachineStaysStoppedUnderANewAllocationWithoutIt() throws Exception {
        Execution last = serving(kept);
        HttpResponse<String> r = node.operator("POST", "/control/machine/" + kept.value() + "/stop", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await().atMost(START).until(() -> node.node.pool().running(kept).isEmpty() && last.isRetired());
        assertThat(node.node.pool().persistent()).doesNotContainKey(kept);
        assertThat(node.node.allocations().current().all()).doesNotContain(kept);

        HttpResponse<String> empty = node.operator("POST", "/control/allocations", allocation());
        assertThat(empty.statusCode()).isEqualTo(200);
        Thread.sleep(3_000);
        assertThat(node.node.pool().running(kept)).isEmpty();
        assertThat(node.node.pool().persistent()).isEmpty();
        assertThat(JSON.readTree(node.get("/about/allocations").body()).path("machines")).isEmpty();
        // Stopping it again: it is no longer allocated.
        assertThat(node.operator("POST", "/control/machine/" + kept.value() + "/stop", null).statusCode()).isEqualTo(404);
    }

    @Test
    @Order(6)
    void aRestartedNodeConvergesToTheLastAllocation() throws Exception {
        HttpResponse<String> n = node.operator("POST", "/control/allocation/notify", "{\"instance\": \"" + kept.value() + "\"}");
        assertThat(n.statusCode()).as(n.body()).isEqualTo(200);
        serving(kept);
        node.close();
        node = null;
        launcher = new AgentVmLauncher(Duration.ZERO); // the old node closed its launcher
        node = TestNode.withAgents(dir.resolve("home"), launcher, c -> c.withIdleTimeout(Duration.ofSeconds(2)));
        Execution e = serving(kept);
        assertThat(e.requestsServed()).isZero();
        assertThat(node.node.operatorTokenCreated()).as("the token made at the first start is kept").isFalse();

        HttpResponse<String> erase = node.operator("POST", "/control/machine/" + kept.value() + "/erase", null);
        assertThat(erase.statusCode()).as(erase.body()).isEqualTo(200);
        await().atMost(START).until(() -> node.node.pool().running(kept).isEmpty());
        assertThat(node.node.allocations().current().all()).isEmpty();
    }

    @Test
    @Order(7)
    void eraseDeletesThePersistentVolumesOnceTheVmIsGone() throws Exception {
        Path code = SampleProgram.writeTo(Files.createDirectories(dir.resolve("src-volume")));
        ItemHash withVolume = node.publisher.publish(new ProgramSpec(code, Encoding.ZIP, SampleProgram.ENTRYPOINT,
                CodeInterface.ASGI, node.runtime, "test", Resources.of(1, 128, 10), Map.of(), "keeper", false, true,
                List.of(PersistentVolume.of("/data", "keep", Persistence.HOST, 16)))).message();
        HttpResponse<String> n = node.operator("POST", "/control/allocation/notify", "{\"instance\": \"" + withVolume.value() + "\"}");
        assertThat(n.statusCode()).as(n.body()).isEqualTo(200);
        Execution e = serving(withVolume);
        String owner = node.localPublisher.sender();
        Path image = node.node.pool().persistentVolumes().orElseThrow().image(owner, "keep");
        assertThat(image).as("made at the VM's start").exists();

        HttpResponse<String> erase = node.operator("POST", "/control/machine/" + withVolume.value() + "/erase", null);
        assertThat(erase.statusCode()).as(erase.body()).isEqualTo(200);
        await().atMost(START).until(() -> !Files.exists(image));
        assertThat(e.isRetired()).isTrue();
        assertThat(node.node.pool().running(withVolume)).isEmpty();
        assertThat(node.node.allocations().current().all()).doesNotContain(withVolume);
        // Erasing again finds nothing to delete and still answers (the message is known).
        assertThat(node.operator("POST", "/control/machine/" + withVolume.value() + "/erase", null).statusCode()).isEqualTo(200);
    }
}
