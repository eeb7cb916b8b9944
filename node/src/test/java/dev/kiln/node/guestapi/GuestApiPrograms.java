package dev.kiln.node.guestapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.testing.TestNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;

/** The test program apps/guestapi published with the guest-API flags a test wants, and calls through it. */
final class GuestApiPrograms {
    static final ObjectMapper JSON = new ObjectMapper();

    private GuestApiPrograms() {
    }

    static Path app() throws Exception {
        return Path.of(GuestApiPrograms.class.getResource("/dev/kiln/node/apps/guestapi").toURI());
    }

    /** Publishes the app, then the same program with {@code environment.aleph_api/shared_cache} set. */
    static ItemHash publish(TestNode node, String name, boolean api, boolean cache) throws Exception {
        PublishedProgram base = node.publish(app(), Encoding.ZIP, "main:app", CodeInterface.ASGI, null, name + "-base");
        String json = node.nodeRecords.programs().find(base.message()).orElseThrow().messageJson();
        JsonNode message = JSON.readTree(json);
        ObjectNode content = (ObjectNode) JSON.readTree(message.path("item_content").asText());
        ((ObjectNode) content.path("environment")).put("aleph_api", api).put("shared_cache", cache);
        ProgramContent parsed = (ProgramContent) AlephMessages.parseContent(MessageType.PROGRAM, content.toString());
        Instant now = Instant.now();
        AlephMessage m = AlephMessage.inline(message.path("chain").asText(), message.path("sender").asText(),
                message.path("channel").asText("TEST"), parsed, now);
        node.nodeRecords.programs().add(new ProgramRecord(m.hash(), m.sender(), name, now, AlephMessages.toJson(m)));
        return m.hash();
    }

    record Call(int status, String type, byte[] body, String error) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    /** Asks the program to make {@code method path} (with {@code body}) on its guest API, and returns what it got. */
    static Call call(TestNode node, ItemHash program, String method, String path, byte[] body) throws Exception {
        URI uri = node.uri("/vm/" + program.value() + "/call?method=" + method + "&path="
                + URLEncoder.encode(path, StandardCharsets.UTF_8));
        HttpResponse<String> r = node.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        if (r.statusCode() != 200) throw new AssertionError("the program answered " + r.statusCode() + ": " + r.body());
        JsonNode j = JSON.readTree(r.body());
        if (j.has("error")) return new Call(-1, null, new byte[0], j.path("error").asText() + ": " + j.path("message").asText());
        return new Call(j.path("status").asInt(), j.path("type").asText(null), Base64.getDecoder().decode(j.path("body").asText()), null);
    }

    static Call get(TestNode node, ItemHash program, String path) throws Exception {
        return call(node, program, "GET", path, new byte[0]);
    }

    /** Raw bytes to the guest-API socket; the reply as text (or the error). */
    static String raw(TestNode node, ItemHash program, byte[] bytes) throws Exception {
        HttpResponse<String> r = node.send(HttpRequest.newBuilder(node.uri("/vm/" + program.value() + "/raw"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
        JsonNode j = JSON.readTree(r.body());
        return j.has("reply") ? j.path("reply").asText() : "error " + j.path("error").asText();
    }
}
