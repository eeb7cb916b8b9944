package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.SampleProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln allocation} and {@code kiln instance} in-process against a real node on the same home
 * (real HTTP, real SQLite; its VMs are the guest agent run on the host): the token is read from the
 * home, allocations start and stop a persistent program, a wrong token is refused with the node's
 * message, and an instance is written and then refused by a node that does not run instances.
 */
class OperatorCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static TestNode node;
    static ItemHash kept;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.withAgents(dir.resolve("home"), new AgentVmLauncher(Duration.ZERO), c -> c);
        Path code = SampleProgram.writeTo(Files.createDirectories(dir.resolve("src")));
        kept = node.publisher.publish(new ProgramSpec(code, Encoding.ZIP, SampleProgram.ENTRYPOINT, CodeInterface.ASGI,
                node.runtime, "test", Resources.of(1, 128, 10), Map.of(), "kept", false, true)).message();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static Run kiln(String... args) {
        List<String> all = new ArrayList<>(List.of("--home", node.home.root().toString()));
        all.addAll(List.of(args));
        all.addAll(List.of("--node-url", node.node.uri().toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void allocationAndMachineCommandsDriveTheNode() throws Exception {
        Run empty = kiln("allocation", "show");
        assertThat(empty.exit()).as(empty.err()).isZero();
        assertThat(empty.out()).contains("nothing allocated");

        Run add = kiln("allocation", "add", kept.value());
        assertThat(add.exit()).as(add.err()).isZero();
        await().atMost(Duration.ofSeconds(60)).until(() -> node.node.pool().running(kept).isPresent());
        Run show = kiln("allocation", "show");
        assertThat(show.out()).contains(kept.value(), "persistent_vms");

        Run logs = kiln("instance", "logs", kept.value());
        assertThat(logs.exit()).as(logs.err()).isZero();
        assertThat(logs.out()).startsWith("--- ");

        Run stop = kiln("instance", "stop", kept.value());
        assertThat(stop.exit()).as(stop.err()).isZero();
        await().atMost(Duration.ofSeconds(60)).until(() -> node.node.pool().running(kept).isEmpty());
        assertThat(node.node.allocations().current().all()).isEmpty();

        Run set = kiln("allocation", "set", "--persistent", kept.value());
        assertThat(set.exit()).as(set.err()).isZero();
        assertThat(set.out()).contains("started  " + kept.value());
        Run none = kiln("allocation", "set");
        assertThat(none.out()).contains("stopped  " + kept.value());
        await().atMost(Duration.ofSeconds(60)).until(() -> node.node.pool().running(kept).isEmpty());

        Run again = kiln("instance", "stop", kept.value());
        assertThat(again.exit()).isEqualTo(Main.USER_ERROR);
        assertThat(again.err()).contains("404", "not allocated");
    }

    @Test
    void aWrongTokenIsRefusedAndTheTokenIsNeverPrinted() throws Exception {
        Path wrong = Files.writeString(dir.resolve("wrong-token"), "0".repeat(64) + "\n");
        Run r = kiln("allocation", "show", "--token-file", wrong.toString());
        assertThat(r.exit()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("401", "not this node's");
        String token = Files.readString(node.home.root().resolve("operator-token")).strip();
        assertThat(r.out() + r.err()).doesNotContain(token);
    }

    @Test
    void anInstanceIsWrittenAndRefusedByANodeThatDoesNotRunInstances() throws Exception {
        Path key = Files.writeString(dir.resolve("id.pub"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlGJRaIv/EzNT0eNqNB5DiGEbii28Fb2zCjuO/bMu7y test\n");
        Run bad = kiln("instance", "create", "--rootfs", node.runtime.value(), "--ssh-key", dir.resolve("src").toString());
        assertThat(bad.exit()).isNotZero();

        Run r = kiln("instance", "create", "--rootfs", node.runtime.value(), "--ssh-key", key.toString(), "--size-mib", "1024");
        assertThat(r.out()).startsWith("instance ");
        ItemHash instance = ItemHash.parse(r.out().lines().findFirst().orElseThrow().substring("instance ".length()).strip());
        JsonNode message = JSON.readTree(node.nodeRecords.programs().find(instance).orElseThrow().messageJson());
        assertThat(message.path("type").asText()).isEqualTo("INSTANCE");
        JsonNode content = message.path("content");
        assertThat(content.path("rootfs").path("parent").path("ref").asText()).isEqualTo(node.runtime.value());
        assertThat(content.path("rootfs").path("size_mib").asLong()).isEqualTo(1024);
        assertThat(content.path("authorized_keys").get(0).asText()).startsWith("ssh-ed25519 ");
        // The node runs instances, but this parent is no instance root filesystem: refused by name.
        assertThat(r.exit()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("content.rootfs.parent.ref", "not an ext4 filesystem image");

        Run list = kiln("instance", "list", "--json");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(JSON.readTree(list.out()).isArray()).isTrue();
    }
}
