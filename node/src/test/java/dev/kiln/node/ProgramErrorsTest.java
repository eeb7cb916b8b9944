package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.Code;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.ProgramRuntime;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad programs get a 400-class JSON error naming the problem, and leave nothing running or cached. */
class ProgramErrorsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static AgentVmLauncher launcher;
    static TestNode node;
    static ItemHash code;

    @BeforeAll
    static void start() throws Exception {
        launcher = new AgentVmLauncher(Duration.ZERO);
        node = TestNode.withAgents(dir, launcher, c -> c);
        Path zip = dir.resolve("sample.zip");
        dev.kiln.node.program.CodePackager.pack(SampleProgram.writeTo(Files.createDirectories(dir.resolve("src"))),
                Encoding.ZIP, zip);
        code = node.localPublisher.publish(zip, null).messageHash();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    /** Records a PROGRAM message as it is, valid or not, and returns its hash. */
    static ItemHash record(ProgramContent content) throws Exception {
        AlephMessage m = AlephMessage.inline("ETH", node.localPublisher.sender(), "TEST", content, Instant.now());
        node.nodeRecords.programs().add(new ProgramRecord(m.hash(), m.sender(), null, Instant.now(), AlephMessages.toJson(m)));
        return m.hash();
    }

    static ProgramContent.Builder program(String entrypoint, ItemHash runtime) {
        return ProgramContent.builder().address(node.localPublisher.sender()).time(Instant.now())
                .code(Code.of(Encoding.ZIP, entrypoint, code)).runtime(ProgramRuntime.of(runtime, "test"));
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("error");
    }

    @Test
    void anInvalidMessageIs400WithEveryProblemByFieldPath() throws Exception {
        ItemHash p = record(program("main.py:app", node.runtime).resources(Resources.of(1, 0, 30)).build());
        int before = launcher.launches();
        HttpResponse<String> r = node.get(p, "/");
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode e = error(r);
        assertThat(e.path("code").asText()).isEqualTo("invalid_program");
        assertThat(e.path("details").findValuesAsText("path"))
                .contains("content.code.entrypoint", "content.resources.memory");
        assertThat(launcher.launches()).as("nothing booted").isEqualTo(before);
    }

    @Test
    void aMessageWhoseContentWasTamperedWithFailsItsIntegrityCheck() throws Exception {
        AlephMessage m = AlephMessage.inline("ETH", node.localPublisher.sender(), "TEST", program("main:app", node.runtime).build(),
                Instant.now());
        String json = AlephMessages.toJson(m).replace("\"memory\":128", "\"memory\":512");
        node.nodeRecords.programs().add(new ProgramRecord(m.hash(), m.sender(), null, Instant.now(), json));
        HttpResponse<String> r = node.get(m.hash(), "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("invalid_program");
        assertThat(r.body()).contains("item_content");
    }

    @Test
    void aMissingRuntimeIs400NamingTheField() throws Exception {
        ItemHash p = record(program("main:app", ItemHash.parse("ef".repeat(32))).build());
        HttpResponse<String> r = node.get(p, "/");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("missing_item");
        assertThat(error(r).path("message").asText()).contains("content.runtime.ref");
    }

    @Test
    void aVolumeStoredOnTheNetworkIsUnsupportedAndSaysSo() throws Exception {
        // persistence: host runs (PersistentVolumeTest); store needs aleph's storage.
        ItemHash p = record(program("main:app", node.runtime)
                .volume(PersistentVolume.of("/var/lib/data", "data", Persistence.STORE, 10)).build());
        int before = launcher.launches();
        HttpResponse<String> r = node.get(p, "/");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("unsupported");
        assertThat(error(r).path("message").asText()).contains("content.volumes[0].persistence");
        assertThat(launcher.launches()).as("nothing booted").isEqualTo(before);
    }

    @Test
    void codeTheGuestCannotStartIs400AndItsVmIsGone() throws Exception {
        Path broken = Path.of(ProgramErrorsTest.class.getResource("/dev/kiln/node/apps/broken").toURI());
        PublishedProgram p = node.publish(broken, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 30), "broken");
        int before = launcher.launches();
        HttpResponse<String> r = node.get(p.message(), "/");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("invalid_code");
        assertThat(error(r).path("message").asText()).contains("entrypoint_not_found");
        assertThat(r.body()).doesNotContain("Traceback");
        assertThat(launcher.launches()).isEqualTo(before + 1);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> launcher.alive().isEmpty());
        assertThat(node.node.pool().running(p.message())).isEmpty();
        // Nothing cached: the next request tries again (and fails the same way).
        assertThat(node.get(p.message(), "/").statusCode()).isEqualTo(400);
        assertThat(launcher.launches()).isEqualTo(before + 2);
    }

    @Test
    void aProgramThatNeedsTheInternetOnANodeWithoutNetworkingIs400NamingTheFieldAndBootsNothing() throws Exception {
        ItemHash p = record(program("main:app", node.runtime)
                .environment(new dev.kiln.core.message.Environment(false, true, false, false, null, null, Map.of())).build());
        int before = launcher.launches();
        HttpResponse<String> r = node.get(p, "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("unsupported");
        assertThat(error(r).path("message").asText()).contains("environment.internet").contains("without VM networking");
        assertThat(launcher.launches()).isEqualTo(before);
        assertThat(node.node.pool().running(p)).isEmpty();
    }

    @Test
    void aProgramNotStartedByHttpIsRefused() throws Exception {
        ItemHash p = record(program("main:app", node.runtime)
                .on(new dev.kiln.core.message.Triggers(false,
                        java.util.List.of(JSON.createObjectNode().put("channel", "TEST")), null, Map.of())).build());
        HttpResponse<String> r = node.get(p, "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(error(r).path("code").asText()).isEqualTo("unsupported");
        assertThat(error(r).path("message").asText()).contains("on.http");
    }
}
