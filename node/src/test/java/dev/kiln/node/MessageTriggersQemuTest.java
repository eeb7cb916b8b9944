package dev.kiln.node;

import static dev.kiln.node.testing.TriggerPrograms.JSON;
import static dev.kiln.node.testing.TriggerPrograms.filter;
import static dev.kiln.node.testing.TriggerPrograms.post;
import static dev.kiln.node.testing.TriggerPrograms.postToNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestAlephFeed;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.testing.TriggerPrograms;
import dev.kiln.store.remote.AlephHttpSource;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Message triggers and updates on amend on real QEMU (TCG), two boots in all: a message that
 * matches nothing boots nothing; a message posted to the node boots the idle subscribed program
 * and its handler sees it; the remote's WebSocket feed drives the same path (a
 * {@link TestAlephFeed} over a real socket stands in for the aleph network, which these machines
 * cannot reach); an amend of the program's runtime posted to the node drains its VM — the request
 * in flight finishes — and the next request runs on the new runtime.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MessageTriggersQemuTest {
    static final Duration BOOT = Duration.ofMinutes(3);
    static final String CHANNEL = "KILN_TRIGGERS";

    @TempDir
    static Path dir;
    static TestAlephFeed feed;
    static TestNode node;
    static ItemHash program;

    @BeforeAll
    static void start() throws Exception {
        feed = TestAlephFeed.start();
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofMinutes(10)), List.of(new AlephHttpSource(feed.uri())));
        AlephMessage p = TriggerPrograms.program(node, "subscriber",
                List.of(filter("{\"channel\": \"" + CHANNEL + "\", \"content\": {\"type\": \"kiln-test\"}}")), Map.of());
        HttpResponse<String> r = postToNode(node, p);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        program = p.hash();
        feed.awaitClients(1, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
        if (feed != null) feed.close();
    }

    static JsonNode delivery(ItemHash message) throws Exception {
        for (JsonNode d : TriggerPrograms.deliveriesOf(node, program)) {
            if (d.path("message").asText().equals(message.value())) return d;
        }
        return null;
    }

    static List<String> seen() throws Exception {
        return JSON.readTree(node.get(program, "/seen").body()).findValuesAsText("item_hash");
    }

    @Test
    @Order(1)
    void aMessageThatMatchesNothingBootsNothing() throws Exception {
        String other = post(CHANNEL, "another-type", Map.of("n", 0));
        HttpResponse<String> r = postToNode(node, other);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(JSON.readTree(r.body()).path("triggered").isEmpty()).isTrue();
        Thread.sleep(2_000);
        assertThat(node.node.pool().executions()).isEmpty();
        assertThat(delivery(TriggerPrograms.hashOf(other))).isNull();
    }

    @Test
    @Order(2)
    void aPostedMessageBootsTheIdleProgramAndItsHandlerSeesIt() throws Exception {
        assertThat(node.node.pool().running(program)).as("idle before the message").isEmpty();
        String m = post(CHANNEL, "kiln-test", Map.of("greeting", "hello from a message"));
        HttpResponse<String> r = postToNode(node, m);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(JSON.readTree(r.body()).path("triggered").toString()).contains(program.value());
        ItemHash hash = TriggerPrograms.hashOf(m);
        await().atMost(BOOT).pollInterval(Duration.ofMillis(500)).until(() -> delivery(hash) != null);
        JsonNode d = delivery(hash);
        assertThat(d.path("outcome").asText()).as(d.toString()).isEqualTo("delivered");
        assertThat(d.path("source").asText()).isEqualTo("post");
        assertThat(d.path("attempts").asInt()).isEqualTo(1);
        assertThat(node.node.pool().running(program)).as("booted by the message").isPresent();
        JsonNode handled = JSON.readTree(node.get(program, "/seen").body()).get(0);
        assertThat(handled.path("item_hash").asText()).isEqualTo(hash.value());
        assertThat(handled.path("scope_hash").asText()).as("the ASGI scope carries it too").isEqualTo(hash.value());
        assertThat(handled.path("channel").asText()).isEqualTo(CHANNEL);
        assertThat(handled.path("content").path("content").path("greeting").asText()).isEqualTo("hello from a message");
    }

    @Test
    @Order(3)
    void theRemotesFeedDrivesTheSamePath() throws Exception {
        Execution warm = node.node.pool().running(program).orElseThrow();
        String good = post(CHANNEL, "kiln-test", Map.of("via", "feed"));
        ObjectNode tampered = (ObjectNode) JSON.readTree(post(CHANNEL, "kiln-test", Map.of("via", "tampered")));
        tampered.put("item_content", tampered.get("item_content").asText().replace("tampered", "tempered"));
        feed.send("{\"item_hash\": \"" + "cd".repeat(32) + "\", \"confirmation\": {\"chain\": \"ETH\", \"height\": 1}}");
        feed.send("this is not JSON");
        feed.send(tampered.toString());
        feed.send(good);
        ItemHash hash = TriggerPrograms.hashOf(good);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).until(() -> delivery(hash) != null);
        JsonNode d = delivery(hash);
        assertThat(d.path("outcome").asText()).as(d.toString()).isEqualTo("delivered");
        assertThat(d.path("source").asText()).isEqualTo("feed");
        assertThat(seen()).contains(hash.value()).doesNotContain(tampered.get("item_hash").asText());
        assertThat(node.node.pool().running(program)).containsSame(warm);
        JsonNode status = JSON.readTree(node.get("/about/deliveries").body()).path("feed");
        assertThat(status.path("connected").asBoolean()).isTrue();
        assertThat(status.path("skipped_confirmations").asInt()).isEqualTo(1);
    }

    @Test
    @Order(4)
    void anAmendOfTheRuntimeDrainsTheVmAndTheNextRequestRunsTheNewRuntime() throws Exception {
        Execution before = node.node.pool().running(program).orElseThrow();
        assertThat(node.get(program, "/cmdline").body()).contains("kiln.runtime=" + node.runtime.value());
        CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return node.get(program, "/sleep?ms=4000");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> before.inFlight() == 1);
        AlephMessage amend = TriggerPrograms.storeAmend(node, node.runtime);
        HttpResponse<String> r = postToNode(node, amend);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(JSON.readTree(r.body()).path("recorded").asText()).isEqualTo("store");
        await().atMost(Duration.ofSeconds(10)).until(() -> node.node.pool().running(program).filter(e -> e == before).isEmpty());
        HttpResponse<String> drained = inFlight.get();
        assertThat(drained.statusCode()).as("the request in flight finished on the old VM").isEqualTo(200);
        assertThat(drained.body()).isEqualTo("slept");
        String cmdline = node.get(program, "/cmdline").body();
        assertThat(cmdline).contains("kiln.runtime=" + amend.hash().value());
        assertThat(node.node.pool().running(program).orElseThrow()).isNotSameAs(before);
        node.nodeRecords.executions().flush();
        ExecutionRecord ended = node.nodeRecords.executions().list(program, 10).stream()
                .filter(e -> e.id().equals(before.id())).findFirst().orElseThrow();
        assertThat(ended.endedBy()).isEqualTo("amended");
        assertThat(ended.reason()).contains("content.runtime.ref", amend.hash().value());
        assertThat(node.node.amendWatch().recent()).anySatisfy(u -> assertThat(u.to()).isEqualTo(amend.hash()));
    }
}
