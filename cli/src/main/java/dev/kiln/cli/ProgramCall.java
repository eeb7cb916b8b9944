package dev.kiln.cli;

import dev.kiln.core.hash.ItemHash;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "call", mixinStandardHelpOptions = true,
        description = "Send one request to a program on a node and print the status, the headers (-i) and the body.")
final class ProgramCall implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "HASH", description = "The program's item hash.")
    String hash;

    @Parameters(index = "1", paramLabel = "PATH", defaultValue = "/", description = "The path in the program (default: /).")
    String path;

    @Option(names = {"-i", "--include"}, description = "Print the response headers too.")
    boolean headers;

    @Option(names = {"-X", "--method"}, paramLabel = "METHOD", defaultValue = "GET", description = "HTTP method (default: GET).")
    String method;

    @Option(names = {"-d", "--data"}, paramLabel = "BODY", description = "A request body (text).")
    String data;

    @Mixin NodeUrl node;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ItemHash program = ItemHash.parse(hash);
        String base = node.base();
        URI uri = URI.create(base + "/vm/" + program.value() + (path.startsWith("/") ? path : "/" + path));
        HttpRequest.BodyPublisher body = data == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(data, StandardCharsets.UTF_8);
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(HttpRequest.newBuilder(uri)
                    .method(method, body).timeout(Duration.ofSeconds(180)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            err.println(node.unreachable());
            return Main.USER_ERROR;
        }
        out.println(r.statusCode() + " " + uri);
        if (headers) {
            r.headers().map().forEach((name, values) -> values.forEach(v -> out.println(name + ": " + v)));
            out.println();
        }
        out.print(r.body());
        if (!r.body().endsWith("\n")) out.println();
        out.flush();
        return r.statusCode() < 400 ? Main.OK : Main.USER_ERROR;
    }
}
