package dev.kiln.node.events;

import static dev.kiln.node.testing.TriggerPrograms.JSON;
import static dev.kiln.node.testing.TriggerPrograms.filter;
import static dev.kiln.node.testing.TriggerPrograms.post;
import static dev.kiln.node.testing.TriggerPrograms.postToNode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.testing.TriggerPrograms;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery through the node's real HTTP endpoint, pool and guest protocol, with the real guest
 * agent run as a host process ({@link AgentVmLauncher}) so that many deliveries take seconds:
 * per-program queues (a flood for one program does not hold up another), bounded retries, the
 * pause after repeated failures, a full queue, the records in /about/deliveries, and the errors
 * bad posts get. The QEMU side is {@code MessageTriggersQemuTest}.
 */
class MessageDeliveryTest {
    @TempDir
    static Path dir;
    static AgentVmLauncher launcher;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        launcher = new AgentVmLauncher(Duration.ZERO);
        node = TestNode.withAgents(dir, launcher, c -> c.withIdleTimeout(Duration.ofMinutes(5)));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static ItemHash publish(String name, String channel, Map<String, String> variables) throws Exception {
        AlephMessage p = TriggerPrograms.program(node, name, List.of(filter("{\"channel\": \"" + channel + "\"}")), variables);
        HttpResponse<String> r = postToNode(node, p);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(JSON.readTree(r.body()).path("recorded").asText()).isEqualTo("program");
        return p.hash();
    }

    static ItemHash send(String channel, Map<String, Object> content) throws Exception {
        String m = post(channel, "test", content);
        HttpResponse<String> r = postToNode(node, m);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return TriggerPrograms.hashOf(m);
    }

    static List<JsonNode> deliveries(ItemHash program) throws Exception {
        return TriggerPrograms.deliveriesOf(node, program);
    }

    static long count(ItemHash program, String outcome) throws Exception {
        return deliveries(program).stream().filter(d -> d.path("outcome").asText().equals(outcome)).count();
    }

    static JsonNode seen(ItemHash program) throws Exception {
        return JSON.readTree(node.get(program, "/seen").body());
    }

    @Test
    void aFloodForOneProgramDoesNotHoldUpAnother() throws Exception {
        ItemHash slow = publish("flooded", "FLOOD", Map.of("SLEEP_MS", "300"));
        ItemHash quick = publish("quick", "QUICK", Map.of());
        // Both warm first, so that what follows compares deliveries, not boots.
        send("FLOOD", Map.of("warm", true));
        send("QUICK", Map.of("warm", true));
        await().atMost(Duration.ofSeconds(60)).until(() -> count(slow, "delivered") == 1 && count(quick, "delivered") == 1);
        int flood = 30;
        for (int i = 0; i < flood; i++) send("FLOOD", Map.of("i", i));
        ItemHash urgent = send("QUICK", Map.of("urgent", true));
        await().atMost(Duration.ofSeconds(30)).until(() -> count(quick, "delivered") == 2);
        long floodDone = count(slow, "delivered") - 1;
        // One slow program takes 300 ms per message, in order: 30 take 9 s. The quick program's
        // message must not wait behind them.
        assertThat(floodDone).as("flood messages delivered when the other program got its message").isLessThan(flood / 2);
        assertThat(seen(quick).findValuesAsText("item_hash")).contains(urgent.value());
        await().atMost(Duration.ofSeconds(60)).until(() -> count(slow, "delivered") == flood + 1);
        List<String> order = new java.util.ArrayList<>();
        for (JsonNode e : seen(slow)) {
            JsonNode i = e.path("content").path("content").path("i");
            if (!i.isMissingNode()) order.add(i.asText());
        }
        assertThat(order).as("one program's messages arrive in order").isEqualTo(
                java.util.stream.IntStream.range(0, flood).mapToObj(String::valueOf).toList());
    }

    @Test
    void aFailingProgramIsRetriedBoundedTimesThenPaused() throws Exception {
        node.node.triggers().policy(new DeliveryPolicy(3, Duration.ofMillis(100), Duration.ofMillis(400), 100, 2,
                Duration.ofMinutes(5)));
        ItemHash failing = publish("failing", "FAILING", Map.of("FAIL", "1"));
        try {
            ItemHash first = send("FAILING", Map.of("n", 1));
            await().atMost(Duration.ofSeconds(60)).until(() -> count(failing, "failed") == 1);
            JsonNode d = deliveries(failing).getFirst();
            assertThat(d.path("message").asText()).isEqualTo(first.value());
            assertThat(d.path("attempts").asInt()).isEqualTo(3);
            assertThat(d.path("detail").asText()).contains("status 500");
            assertThat(d.path("latency_seconds").isNull()).isTrue();
            assertThat(seen(failing).size()).as("the handler ran once per attempt").isEqualTo(3);
            send("FAILING", Map.of("n", 2));
            await().atMost(Duration.ofSeconds(60)).until(() -> count(failing, "failed") == 2);
            // Two messages failed in a row: the next is not attempted at all.
            send("FAILING", Map.of("n", 3));
            await().atMost(Duration.ofSeconds(30)).until(() -> count(failing, "skipped") == 1);
            assertThat(deliveries(failing).getFirst().path("attempts").asInt()).isZero();
            assertThat(seen(failing).size()).isEqualTo(6);
            JsonNode about = JSON.readTree(node.get("/about/deliveries").body());
            assertThat(about.path("suspended").toString()).contains(failing.value());
        } finally {
            node.node.triggers().policy(DeliveryPolicy.DEFAULT);
        }
    }

    @Test
    void aFullQueueDropsTheMessageAndSaysSo() throws Exception {
        node.node.triggers().policy(DeliveryPolicy.DEFAULT.withQueueCapacity(2));
        ItemHash slow = publish("narrow", "NARROW", Map.of("SLEEP_MS", "1000"));
        try {
            for (int i = 0; i < 8; i++) send("NARROW", Map.of("i", i));
            await().atMost(Duration.ofSeconds(60)).until(() -> deliveries(slow).size() == 8);
            assertThat(count(slow, "dropped")).isGreaterThanOrEqualTo(4);
            assertThat(deliveries(slow)).filteredOn(d -> d.path("outcome").asText().equals("dropped"))
                    .allSatisfy(d -> assertThat(d.path("detail").asText()).contains("queue is full"));
            assertThat(count(slow, "delivered")).isEqualTo(8 - count(slow, "dropped"));
        } finally {
            node.node.triggers().policy(DeliveryPolicy.DEFAULT);
        }
    }

    @Test
    void aMessageThatMatchesNothingBootsNothing() throws Exception {
        publish("bystander", "SOMEWHERE", Map.of());
        int before = launcher.launches();
        String m = post("NOWHERE", "test", Map.of("x", 1));
        HttpResponse<String> r = postToNode(node, m);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(JSON.readTree(r.body()).path("triggered").isEmpty()).isTrue();
        Thread.sleep(1000);
        assertThat(launcher.launches()).isEqualTo(before);
        assertThat(node.node.triggers().deliveriesOf(TriggerPrograms.hashOf(m))).isEmpty();
    }

    @Test
    void aProgramOnlyMessagesStartRunsForThemButHttpDoesNotReachIt() throws Exception {
        AlephMessage p = TriggerPrograms.program(node, "events-only", List.of(filter("{\"channel\": \"ONLY\"}")), Map.of(), false);
        assertThat(postToNode(node, p).statusCode()).isEqualTo(202);
        HttpResponse<String> cold = node.get(p.hash(), "/seen");
        assertThat(cold.statusCode()).as(cold.body()).isEqualTo(400);
        assertThat(error(cold)).contains("on.http");
        assertThat(node.node.pool().running(p.hash())).as("HTTP did not boot it").isEmpty();
        ItemHash m = send("ONLY", Map.of("x", 1));
        await().atMost(Duration.ofSeconds(60)).until(() -> count(p.hash(), "delivered") == 1);
        assertThat(deliveries(p.hash()).getFirst().path("message").asText()).isEqualTo(m.value());
        assertThat(node.node.pool().running(p.hash())).as("the message booted it").isPresent();
        HttpResponse<String> warm = node.get(p.hash(), "/seen");
        assertThat(warm.statusCode()).as("warm, still not for HTTP").isEqualTo(400);
    }

    @Test
    void badPostsGetClearErrorsAndBootNothing() throws Exception {
        int before = launcher.launches();
        String good = post("BAD", "test", Map.of("x", 1));
        // No token, a wrong one.
        HttpResponse<String> r = node.send(HttpRequest.newBuilder(node.uri("/api/v0/messages"))
                .POST(HttpRequest.BodyPublishers.ofString(good)));
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.body()).contains("operator", "Bearer").doesNotContain("Exception");
        r = node.send(HttpRequest.newBuilder(node.uri("/api/v0/messages")).header("Authorization", "Bearer nope")
                .POST(HttpRequest.BodyPublishers.ofString(good)));
        assertThat(r.statusCode()).isEqualTo(401);
        // Garbage.
        r = postToNode(node, "{\"chain\": \"ETH\", ");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("not an aleph message", "malformed JSON");
        // item_content changed after hashing.
        JsonNode tampered = JSON.readTree(good);
        ((com.fasterxml.jackson.databind.node.ObjectNode) tampered).put("item_content",
                tampered.get("item_content").asText().replace("\"x\":1", "\"x\":2"));
        r = postToNode(node, tampered.toString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("does not match its hash", "item_hash");
        // A message whose content lives elsewhere cannot be verified here.
        JsonNode storage = JSON.readTree(good);
        ((com.fasterxml.jackson.databind.node.ObjectNode) storage).put("item_type", "storage").remove("item_content");
        r = postToNode(node, storage.toString());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("inline");
        // Oversized.
        r = postToNode(node, post("BAD", "test", Map.of("blob", "x".repeat(600 * 1024))));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(error(r)).contains("512 KiB");
        // A PROGRAM with a filter aleph cannot compare: refused naming the field.
        AlephMessage listFilter = TriggerPrograms.program(node, "lists", List.of(filter("{\"channel\": [\"A\", \"B\"]}")), Map.of());
        r = postToNode(node, AlephMessages.toJson(listFilter));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("unsupported");
        assertThat(error(r)).contains("content.on.message[0].channel");
        assertThat(node.nodeRecords.programs().find(listFilter.hash())).isEmpty();
        // Wrong method.
        assertThat(node.get("/api/v0/messages").statusCode()).isEqualTo(405);
        assertThat(launcher.launches()).isEqualTo(before);
        // The node is still up and takes a good message.
        assertThat(postToNode(node, good).statusCode()).isEqualTo(202);
    }

    static String error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("error").path("message").asText();
    }

    @Test
    void anAmendOfAFollowedRefDrainsTheVmAndTheNextRequestUsesTheNewVersion() throws Exception {
        ItemHash program = publish("follower", "FOLLOW", Map.of());
        assertThat(node.get(program, "/").statusCode()).isEqualTo(200);
        var before = node.node.pool().running(program).orElseThrow();
        assertThat(before.program().runtime().resolved()).isEqualTo(node.runtime);
        // Published by `kiln` on the same home, not through the node: found by the periodic check.
        ItemHash amend = node.localPublisher.publish(dir.resolve("fixtures/runtime.img"), node.runtime).messageHash();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.node.pool().running(program).filter(e -> e == before).isEmpty());
        assertThat(node.get(program, "/").statusCode()).isEqualTo(200);
        var after = node.node.pool().running(program).orElseThrow();
        assertThat(after).isNotSameAs(before);
        assertThat(after.program().runtime().resolved()).isEqualTo(amend);
        JsonNode updates = JSON.readTree(node.get("/about/deliveries").body()).path("updates");
        assertThat(updates.toString()).contains(program.value(), amend.value(), "content.runtime.ref");
    }
}
