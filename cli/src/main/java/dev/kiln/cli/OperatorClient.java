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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The {@code --node-url} and {@code --token-file} options of the commands that call the operator
 * API (docs/operator-api.md), and the call itself: the token is read from the node home's
 * {@code operator-token} unless a file is given, sent as {@code Authorization: Bearer}, never printed.
 */
final class OperatorClient {
    static final ObjectMapper JSON = new ObjectMapper();

    @Mixin NodeUrl node;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "The node operator's token (default: operator-token in the Kiln home, made by the node's first start).")
    Path tokenFile;

    /** Thrown with the line to print (already prefixed) when a call cannot be made or is refused. */
    static final class Refused extends Exception {
        final boolean unreachable;

        Refused(String message) {
            this(message, false);
        }

        Refused(String message, boolean unreachable) {
            super(message);
            this.unreachable = unreachable;
        }
    }

    /** A call's answer: its status and body. */
    record Answer(int status, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    Answer get(KilnContext kiln, String path) throws Refused, IOException, InterruptedException {
        return call(kiln, "GET", path, null);
    }

    Answer post(KilnContext kiln, String path, String body) throws Refused, IOException, InterruptedException {
        return call(kiln, "POST", path, body);
    }

    /** Calls the API; a refusal (4xx/5xx other than aleph's 207/503 for allocations) becomes {@link Refused}. */
    Answer call(KilnContext kiln, String method, String path, String body) throws Refused, IOException, InterruptedException {
        String token = token(kiln);
        HttpRequest.Builder r = HttpRequest.newBuilder(node.root().resolve(path.startsWith("/") ? path.substring(1) : path))
                .header("Authorization", "Bearer " + token).header("Accept", "application/json")
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) r.header("Content-Type", "application/json");
        HttpResponse<String> res;
        try {
            res = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(r.build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new Refused(node.unreachable(), true);
        }
        if (res.statusCode() >= 400 && !(res.statusCode() == 503 && path.startsWith("/control/allocation"))) {
            throw new Refused("kiln: the node refused " + method + " " + path + " (" + res.statusCode() + "): " + message(res.body()));
        }
        return new Answer(res.statusCode(), res.body());
    }

    private String token(KilnContext kiln) throws Refused, IOException {
        if (tokenFile != null) {
            if (!Files.isReadable(tokenFile)) throw new Refused("kiln: cannot read the token file " + tokenFile);
            String t = Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
            if (t.isEmpty()) throw new Refused("kiln: the token file " + tokenFile + " is empty");
            return t;
        }
        Path home = kiln.home().root();
        // No token: no node has ever started on this home, so there is no node here to reach either.
        return OperatorToken.read(home).orElseThrow(() -> new Refused("kiln: no operator token in " + home
                + " (a node makes " + OperatorToken.FILE_NAME + " at its first start there); give --token-file", true));
    }

    private static String message(String body) {
        try {
            JsonNode e = JSON.readTree(body).path("error");
            if (e.isObject()) return e.path("message").asText();
        } catch (IOException notJson) {
            // fall through
        }
        return body.length() > 300 ? body.substring(0, 300) + "…" : body;
    }

    /** Prints an allocation answer as lines: started, stopped, failing with why. */
    static void printOutcome(PrintWriter out, PrintWriter err, JsonNode o) {
        for (JsonNode h : o.path("started")) out.println("started  " + h.asText());
        for (JsonNode h : o.path("stopped")) out.println("stopped  " + h.asText());
        o.path("errors").fields().forEachRemaining(e -> err.println("failed   " + e.getKey() + ": " + e.getValue().asText()));
        if (o.path("started").isEmpty() && o.path("stopped").isEmpty() && o.path("errors").isEmpty()) {
            out.println("nothing to change: the node runs what the allocation lists");
        }
    }
}
