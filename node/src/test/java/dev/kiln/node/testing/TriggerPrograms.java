package dev.kiln.node.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.Code;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.ProgramRuntime;
import dev.kiln.core.message.Resources;
import dev.kiln.core.message.Triggers;
import dev.kiln.core.message.StoreContent;
import dev.kiln.core.message.AlephTime;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.OperatorToken;
import dev.kiln.node.program.CodePackager;
import dev.kiln.store.records.StoreRecord;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Programs subscribed to messages, and messages to post, for the message trigger tests. The
 * program remembers every {@code aleph.message} event it handles and shows them at {@code /seen};
 * {@code FAIL=1} makes it answer events with 500, {@code SLEEP_MS} makes each event take that long.
 */
public final class TriggerPrograms {
    public static final ObjectMapper JSON = new ObjectMapper();
    public static final String SENDER = "0x1234567890AbcdEF1234567890aBcdef12345678";

    /** The handler: standard library only. */
    public static final String MAIN_PY = """
            import asyncio, json, os, time

            SEEN = []

            async def _send(send, status, body, content_type=b"application/json"):
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", content_type)]})
                await send({"type": "http.response.body", "body": body})

            async def app(scope, receive, send):
                if scope["type"] == "lifespan":
                    while True:
                        m = await receive()
                        if m["type"] == "lifespan.startup":
                            await send({"type": "lifespan.startup.complete"})
                        elif m["type"] == "lifespan.shutdown":
                            await send({"type": "lifespan.shutdown.complete"})
                            return
                if scope["type"] == "aleph.message":
                    entered = time.time()
                    body = json.loads((await receive())["body"])
                    SEEN.append({"item_hash": body.get("item_hash"), "channel": body.get("channel"),
                                 "content": body.get("content"), "scope_hash": scope["message"].get("item_hash"),
                                 "entered": entered})
                    delay = int(os.environ.get("SLEEP_MS", "0"))
                    if delay:
                        await asyncio.sleep(delay / 1000)
                    if os.environ.get("FAIL") == "1":
                        return await _send(send, 500, b'{"error": "told to fail"}')
                    return await _send(send, 200, b'{"ok": true}')
                if scope["type"] != "http":
                    return
                if scope["path"] == "/seen":
                    return await _send(send, 200, json.dumps(SEEN).encode())
                if scope["path"] == "/sleep":
                    await asyncio.sleep(int(scope["query_string"].decode().partition("ms=")[2] or "1000") / 1000)
                    return await _send(send, 200, b"slept", b"text/plain")
                if scope["path"] == "/cmdline":
                    with open("/proc/cmdline") as f:
                        return await _send(send, 200, f.read().encode(), b"text/plain")
                return await _send(send, 200, b'{"hello": "triggers"}')
            """;

    private TriggerPrograms() {
    }

    /**
     * Publishes the handler's code on the node's store and returns a PROGRAM message subscribed to
     * {@code filters} (not yet recorded: post it, or record it).
     */
    public static AlephMessage program(TestNode node, String name, List<JsonNode> filters, Map<String, String> variables)
            throws Exception {
        return program(node, name, filters, variables, true);
    }

    /** @param http {@code on.http}: false for a program only messages start */
    public static AlephMessage program(TestNode node, String name, List<JsonNode> filters, Map<String, String> variables,
                                       boolean http) throws Exception {
        Path dir = Files.createDirectories(Files.createTempDirectory(node.home.tmp(), name));
        Files.writeString(dir.resolve("main.py"), MAIN_PY);
        Path zip = CodePackager.pack(dir, Encoding.ZIP, dir.resolveSibling(name + ".zip"));
        StoreRecord code = node.localPublisher.publish(zip, null);
        Instant now = Instant.now();
        ProgramContent.Builder b = ProgramContent.builder().address(node.localPublisher.sender()).time(now)
                .code(new Code("zip", "main:app", code.messageHash().value(), false, "asgi", null, Map.of()))
                // Follows the runtime's amends (aleph's default; ProgramRuntime.of pins it).
                .runtime(new ProgramRuntime(node.runtime.value(), true, "test", Map.of()))
                .resources(Resources.of(1, 128, 20))
                .on(new Triggers(http, filters, null, Map.of()));
        variables.forEach(b::variable);
        b.variable("PROGRAM_NAME", name);
        return AlephMessage.inline("ETH", node.localPublisher.sender(), "TEST", b.build(), now);
    }

    public static JsonNode filter(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** An inline POST message as aleph's clients write it: item_content hashed, content left out. */
    public static String post(String channel, String postType, Map<String, Object> content) {
        double time = Instant.now().toEpochMilli() / 1000.0 + Math.random() / 1000;
        Map<String, Object> c = new java.util.LinkedHashMap<>();
        c.put("type", postType);
        c.put("address", SENDER);
        c.put("time", time);
        c.put("content", content);
        try {
            String itemContent = JSON.writeValueAsString(c);
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("chain", "ETH");
            m.put("sender", SENDER);
            m.put("type", "POST");
            m.put("channel", channel);
            m.put("item_type", "inline");
            m.put("item_content", itemContent);
            m.put("item_hash", ItemHash.sha256Of(itemContent.getBytes(StandardCharsets.UTF_8)).value());
            m.put("time", time);
            m.put("signature", "0x" + "00".repeat(65));
            return JSON.writeValueAsString(m);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A STORE message amending {@code original} with the same file, by the original's sender (posted, not published). */
    public static AlephMessage storeAmend(TestNode node, ItemHash original) throws Exception {
        StoreRecord o = node.storeRecords.find(original).orElseThrow();
        Instant now = Instant.now();
        StoreContent c = StoreContent.of(o.sender(), o.fileHash(), AlephTime.of(now));
        c = new StoreContent(c.address(), c.time(), c.itemType(), c.itemHash(), original.value(), o.size(), "file",
                c.unknownFields());
        return AlephMessage.inline("ETH", o.sender(), "TEST", c, now);
    }

    public static ItemHash hashOf(String messageJson) throws java.io.IOException {
        return ItemHash.parse(JSON.readTree(messageJson).get("item_hash").asText());
    }

    /** POSTs a message to the node with the operator's token. */
    public static HttpResponse<String> postToNode(TestNode node, String messageJson) throws Exception {
        String token = OperatorToken.read(node.home.root()).orElseThrow();
        return node.send(HttpRequest.newBuilder(node.uri("/api/v0/messages")).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(messageJson)));
    }

    public static HttpResponse<String> postToNode(TestNode node, AlephMessage m) throws Exception {
        return postToNode(node, AlephMessages.toJson(m));
    }

    /** The node's deliveries of one message (from /about/deliveries). */
    public static List<JsonNode> deliveriesOf(TestNode node, ItemHash program) throws Exception {
        JsonNode about = JSON.readTree(node.get("/about/deliveries?program=" + program.value() + "&limit=1000").body());
        List<JsonNode> out = new java.util.ArrayList<>();
        about.path("deliveries").forEach(out::add);
        return out;
    }

    public static URI about(TestNode node) {
        return node.uri("/about/deliveries");
    }
}
