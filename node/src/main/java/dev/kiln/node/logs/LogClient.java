package dev.kiln.node.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.hash.ItemHash;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads a node's logs over HTTP, as {@code kiln logs} does: the kept lines of a program (or one
 * of its VMs), and with {@link #follow} the live stream (SSE) after them. Local/operator only, as
 * the endpoints are.
 */
public final class LogClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One line as the endpoints give it. */
    public record Line(long seq, String time, String vm, String stream, String text) {
        static Line of(JsonNode n) {
            return new Line(n.path("seq").asLong(), n.path("time").asText(), n.path("vm").asText(), n.path("stream").asText(),
                    n.path("text").asText());
        }
    }

    private final URI node;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public LogClient(URI node) {
        this.node = node;
    }

    /** The last {@code limit} kept lines of the program's VMs (or of VM {@code vm} if not null), oldest first. */
    public List<Line> read(ItemHash program, String vm, int limit) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(program, vm, "?limit=" + limit)).GET()
                .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        JsonNode root = check(r.statusCode(), r.body());
        List<Line> lines = new ArrayList<>();
        for (JsonNode e : root.path("entries")) lines.add(Line.of(e));
        return lines;
    }

    /**
     * Sends each new line (after {@code afterSeq}) to {@code sink} as the node adds it, until the
     * stream ends (a VM's log is complete) or the thread is interrupted.
     */
    public void follow(ItemHash program, String vm, long afterSeq, Consumer<Line> sink) throws IOException, InterruptedException {
        HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(uri(program, vm, "/stream?after=" + afterSeq))
                .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            try (var in = r.body()) {
                check(r.statusCode(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            String event = null;
            StringBuilder data = new StringBuilder();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
                if (line.isEmpty()) {
                    if ("end".equals(event)) return;
                    if ("log".equals(event)) sink.accept(Line.of(JSON.readTree(data.toString())));
                    event = null;
                    data.setLength(0);
                } else if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    if (!data.isEmpty()) data.append('\n');
                    data.append(line, 6, line.length());
                }
            }
        }
    }

    private URI uri(ItemHash program, String vm, String rest) {
        String path = vm != null ? "/logs/vms/" + java.net.URLEncoder.encode(vm, StandardCharsets.UTF_8)
                : "/logs/programs/" + program.value();
        return node.resolve(path + rest);
    }

    private static JsonNode check(int status, String body) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new IOException("the node answered " + status + " without JSON; is this a Kiln node?");
        }
        if (status != 200) {
            throw new IOException("the node answered " + status + ": " + root.path("error").path("message").asText(body));
        }
        return root;
    }
}
