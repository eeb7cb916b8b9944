package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "What a running node says about itself (/about/executions/list), as a table.")
final class StatusCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin NodeUrl node;

    @Option(names = "--json", description = "Print the node's JSON as it is.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        URI base = node.root();
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(base.resolve("about/executions/list")).header("Accept", "application/json")
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            err.println(node.unreachable());
            return Main.USER_ERROR;
        }
        if (r.statusCode() != 200) {
            err.println("kiln: the node answered " + r.statusCode() + " for /about/executions/list");
            return Main.USER_ERROR;
        }
        if (json) {
            out.println(r.body());
            return Main.OK;
        }
        JsonNode about = new ObjectMapper().readTree(r.body());
        out.println("node:        " + base + "  (console: " + base + ")");
        out.println("accelerator: " + about.path("accelerator").asText());
        out.println("memory:      " + about.path("memory").path("reserved_mib").asLong() + " of "
                + about.path("memory").path("budget_mib").asLong() + " MiB reserved");
        StringBuilder states = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = about.path("vms_by_state").fields(); it.hasNext(); ) {
            var e = it.next();
            states.append(states.isEmpty() ? "" : ", ").append(e.getValue().asLong()).append(' ').append(e.getKey());
        }
        out.println("VMs:         " + (states.isEmpty() ? "none" : states));
        if (about.path("executions").isEmpty()) return Main.OK;
        out.println();
        Table t = new Table("VM", "PROGRAM", "STATE", "UPTIME", "REQUESTS", "IN FLIGHT", "BOOT", "MEMORY", "PID", "PORTS");
        for (JsonNode e : about.path("executions")) {
            t.row(e.path("id").asText(), e.path("program").asText().substring(0, Math.min(12, e.path("program").asText().length())),
                    e.path("state").asText(), String.format(Locale.ROOT, "%.0f s", e.path("uptime_seconds").asDouble()),
                    e.path("requests_served").asText(), e.path("in_flight").asText(),
                    e.path("boot_seconds").isNull() ? "-" : String.format(Locale.ROOT, "%.2f s", e.path("boot_seconds").asDouble()),
                    e.path("memory_mib").asText() + " MiB", e.path("pid").asText(), ports(e.path("forwarded_ports")));
        }
        t.print(out);
        return Main.OK;
    }

    /** {@code 24000->9000/tcp}: where each forwarded port is reached on the node, and what it leads to. */
    private static String ports(JsonNode forwards) {
        StringBuilder b = new StringBuilder();
        for (JsonNode f : forwards) {
            b.append(b.isEmpty() ? "" : " ").append(f.path("host_port").asInt()).append("->")
                    .append(f.path("guest_port").asInt()).append('/').append(f.path("protocol").asText());
        }
        return b.isEmpty() ? "-" : b.toString();
    }
}
