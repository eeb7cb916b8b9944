package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kiln message deliveries}: the node's recent message deliveries ({@code /about/deliveries}) as a table. */
@Command(name = "deliveries", mixinStandardHelpOptions = true,
        description = "The recent deliveries of messages to programs on a running node, newest first.")
final class MessageDeliveries implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec CommandSpec spec;
    @Mixin NodeUrl node;

    @Option(names = "--program", paramLabel = "HASH", description = "Only this program's deliveries.")
    String program;

    @Option(names = {"-n", "--limit"}, paramLabel = "N", defaultValue = "50", description = "At most N (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "Print the node's JSON as it is.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String query = "?limit=" + limit + (program == null ? "" : "&program=" + URLEncoder.encode(program, StandardCharsets.UTF_8));
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(node.root().resolve("about/deliveries" + query)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            err.println(node.unreachable());
            return Main.USER_ERROR;
        }
        JsonNode about = JSON.readTree(r.body());
        if (r.statusCode() != 200) {
            err.println("kiln: the node answered " + r.statusCode() + ": " + about.path("error").path("message").asText());
            return Main.USER_ERROR;
        }
        if (json) {
            out.println(r.body());
            return Main.OK;
        }
        JsonNode feed = about.path("feed");
        out.println("feed: " + (feed.isNull() || feed.isMissingNode() ? "none (the node has no remote)"
                : feed.path("url").asText() + (feed.path("connected").asBoolean() ? ", connected" : ", not connected"
                + (feed.path("last_error").isTextual() ? " (" + feed.path("last_error").asText() + ")" : ""))));
        if (about.path("deliveries").isEmpty()) {
            out.println("no deliveries recorded");
            return Main.OK;
        }
        Table t = new Table("FINISHED", "PROGRAM", "MESSAGE", "SOURCE", "OUTCOME", "ATTEMPTS", "LATENCY", "DETAIL");
        for (JsonNode d : about.path("deliveries")) {
            t.row(d.path("finished_at").asText(), shortHash(d.path("program").asText()), shortHash(d.path("message").asText()),
                    d.path("source").asText(), d.path("outcome").asText(), d.path("attempts").asText(),
                    d.path("latency_seconds").isNull() ? "-" : String.format(Locale.ROOT, "%.3f s", d.path("latency_seconds").asDouble()),
                    d.path("detail").asText());
        }
        t.print(out);
        return Main.OK;
    }

    private static String shortHash(String h) {
        return h.length() > 12 ? h.substring(0, 12) : h;
    }
}
