package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.node.control.OperatorToken;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kiln message post FILE}: hands a message to a running node (its {@code POST /api/v0/messages},
 * with the operator token from the home), which verifies it, records STORE and PROGRAM messages and
 * delivers it to the programs it triggers (docs/events.md).
 */
@Command(name = "post", mixinStandardHelpOptions = true, description = {
        "Post an aleph message to a running node: programs subscribed to it (on.message) get it as an event;"
                + " a STORE amend updates the VMs that follow it. Authenticated with the node home's operator token."})
final class MessagePost implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;
    @Mixin NodeUrl node;

    @Parameters(paramLabel = "FILE.json", description = "The message (aleph's JSON, inline item_content).")
    Path file;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(file)) throw new IOException("no such file: " + file);
        if (Files.size(file) > MessageCommand.MAX_MESSAGE_BYTES) {
            throw new IOException(file + " is " + Bytes.human(Files.size(file)) + "; is this the right file?");
        }
        Optional<String> token = OperatorToken.read(kiln.home().root());
        if (token.isEmpty()) {
            err.println("kiln: no operator token in " + kiln.home().root() + " (the node makes it at its first start);"
                    + " give the node's --home");
            return Main.USER_ERROR;
        }
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(node.root().resolve("api/v0/messages"))
                            .header("Authorization", "Bearer " + token.get())
                            .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofFile(file)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            err.println(node.unreachable());
            return Main.USER_ERROR;
        }
        JsonNode body;
        try {
            body = JSON.readTree(r.body());
        } catch (IOException e) {
            err.println("kiln: the node answered " + r.statusCode() + " with something that is not JSON");
            return Main.USER_ERROR;
        }
        if (r.statusCode() != 202) {
            err.println("kiln: the node refused the message (" + r.statusCode() + " "
                    + body.path("error").path("code").asText() + "): " + body.path("error").path("message").asText());
            return Main.USER_ERROR;
        }
        out.println("posted " + body.path("type").asText() + " message " + body.path("item_hash").asText()
                + (body.path("recorded").isTextual() ? " (recorded as a " + body.path("recorded").asText() + " message)" : ""));
        JsonNode triggered = body.path("triggered");
        if (triggered.isEmpty()) {
            out.println("it triggers no program on this node");
        } else {
            out.println("it triggers " + triggered.size() + " program(s); 'kiln message deliveries' shows how it went:");
            for (JsonNode p : triggered) out.println("  " + p.asText());
        }
        return Main.OK;
    }
}
