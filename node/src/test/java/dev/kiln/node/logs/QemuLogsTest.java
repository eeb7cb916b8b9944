package dev.kiln.node.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logs of real QEMU microVMs (one boot per program, shared by the checks): the console's
 * lines sorted into streams, the program's stdout and stderr kept apart from the console (an ASGI
 * app's print, print to stderr and logging; an executable writing to both), the JSON endpoint,
 * the live stream that {@code kiln logs -f} reads, the bounds with a program that prints
 * megabytes, and the log link of an error a program's owner sees.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QemuLogsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CHATTY = """
            import logging
            import sys

            async def app(scope, receive, send):
                if scope["type"] != "http":
                    return
                path = scope["path"]
                if path == "/both":
                    print("to stdout from chatty")
                    print("to stderr from chatty", file=sys.stderr)
                    logging.getLogger("chatty").warning("logged by chatty")
                elif path == "/spam":
                    for i in range(40000):
                        print("spam line %d of a program that prints far too much" % i)
                    print("spam done", flush=True)
                else:
                    print("hello from chatty " + path, flush=True)
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"ok"})
            """;

    /** An executable (an HTTP server on the socket module) writing to both of its standard streams. */
    static final String TWO_STREAMS = """
            #!/usr/bin/python3
            import socket
            import sys

            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("0.0.0.0", 8080))
            server.listen(16)
            print("out: listening", flush=True)
            while True:
                conn, _ = server.accept()
                with conn:
                    data = b""
                    while b"\\r\\n\\r\\n" not in data:
                        part = conn.recv(65536)
                        if not part:
                            break
                        data += part
                    if not data:
                        continue
                    path = data.split(b" ")[1].decode("latin-1")
                    print("out: served " + path, flush=True)
                    print("err: served " + path, file=sys.stderr, flush=True)
                    conn.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nok")
            """;

    @TempDir
    static Path dir;
    static TestNode node;
    static PublishedProgram chatty;

    @BeforeAll
    static void start() throws Exception {
        node = TestNode.start(dir.resolve("home"), QemuImages.launcher(), QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofMinutes(5)).withLogs(new LogSettings(256 * 1024, 4L << 20, 20)));
        Path code = Files.createDirectories(dir.resolve("chatty"));
        Files.writeString(code.resolve("main.py"), CHATTY);
        chatty = node.publish(code, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 60), "chatty");
        HttpResponse<String> first = node.get(chatty.message(), "/first");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    @Test
    @Order(1) // first: the megabytes check pushes the boot's lines out of this VM's bounded log
    void theConsoleIsSplitIntoKernelAndInitAndTheProgramsOutputArrivesApart() throws Exception {
        // Its own request: another check's megabytes may have pushed /first out of the bounded log.
        assertThat(node.get(chatty.message(), "/split").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> texts("stdout").contains("hello from chatty /split"));
        assertThat(texts("init")).anyMatch(t -> t.startsWith("kiln-init0:")).anyMatch(t -> t.startsWith("kiln-init1:"));
        assertThat(texts("stdout")).noneMatch(t -> t.startsWith("kiln-init"));
        assertThat(texts("program")).as("the program's print no longer goes through the console").isEmpty();
        JsonNode root = JSON.readTree(node.get("/logs/programs/" + chatty.message().value() + "?streams=stdout").body());
        assertThat(root.path("vms").get(0).path("program").asText()).isEqualTo(chatty.message().value());
        assertThat(root.path("vms").get(0).path("ended_at").isNull()).isTrue();
        assertThat(root.path("entries")).isNotEmpty();
        for (JsonNode e : root.path("entries")) assertThat(e.path("stream").asText()).isEqualTo("stdout");
    }

    @Test
    void anAsgiAppsPrintStderrAndLoggingAreSeparateStreams() throws Exception {
        assertThat(node.get(chatty.message(), "/both").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> texts("stderr").contains("logged by chatty"));
        assertThat(texts("stdout")).contains("to stdout from chatty").doesNotContain("to stderr from chatty", "logged by chatty");
        assertThat(texts("stderr")).contains("to stderr from chatty").doesNotContain("to stdout from chatty");
        assertThat(texts("init")).noneMatch(t -> t.contains("from chatty"));
    }

    @Test
    void anExecutablesStdoutAndStderrAreSeparateStreams() throws Exception {
        Path code = Files.createDirectories(dir.resolve("twostreams"));
        Path server = Files.writeString(code.resolve("server.py"), TWO_STREAMS);
        assertThat(server.toFile().setExecutable(true)).isTrue();
        PublishedProgram twoStreams = node.publish(code, Encoding.ZIP, "server.py", CodeInterface.BINARY,
                Resources.of(1, 128, 60), "twostreams");
        HttpResponse<String> r = node.get(twoStreams.message(), "/ping");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String hash = twoStreams.message().value();
        await().atMost(Duration.ofSeconds(10)).until(() -> texts(hash, "stderr").contains("err: served /ping"));
        assertThat(texts(hash, "stdout")).contains("out: listening", "out: served /ping").doesNotContain("err: served /ping");
        assertThat(texts(hash, "stderr")).doesNotContain("out: served /ping");
        JsonNode root = JSON.readTree(node.get("/logs/programs/" + hash + "?streams=stderr").body());
        for (JsonNode e : root.path("entries")) assertThat(e.path("stream").asText()).isEqualTo("stderr");
    }

    @Test
    void aFollowerGetsTheNextLinesLiveAsKilnLogsFollowDoes() throws Exception {
        LogClient client = new LogClient(node.uri("/"));
        long last = client.read(chatty.message(), null, 1).getLast().seq();
        List<String> got = new CopyOnWriteArrayList<>();
        Thread follower = Thread.ofVirtual().start(() -> {
            try {
                client.follow(chatty.message(), null, last, l -> got.add(l.stream() + "|" + l.text()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.io.IOException e) {
                got.add("failed: " + e.getMessage());
            }
        });
        try {
            assertThat(node.get(chatty.message(), "/live").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> got.contains("stdout|hello from chatty /live"));
            assertThat(got).noneMatch(s -> s.contains("/first")).as("nothing before 'after' is sent again");
        } finally {
            follower.interrupt();
        }
    }

    @Test
    void aProgramPrintingMegabytesStaysWithinTheBounds() throws Exception {
        assertThat(node.get(chatty.message(), "/spam").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> texts("stdout").contains("spam done"));
        VmLog log = node.node.logs().ofProgram(chatty.message()).getFirst();
        assertThat(log.bytes()).isLessThanOrEqualTo(256 * 1024);
        assertThat(log.dropped()).as("about 2 MB were printed").isGreaterThan(10_000);
        assertThat(texts("node")).as("the guest's drops are said in the log").anyMatch(t -> t.contains("lines of stdout"));
        var vm = node.node.pool().running(chatty.message()).orElseThrow().vm();
        assertThat(Files.size(vm.consoleLog())).as("the driver's console file holds only the boot while the VM runs")
                .isLessThanOrEqualTo(64 * 1024);
        assertThat(vm.consoleTail(20)).as("the program's output does not go through the console").doesNotContain("spam");
        assertThat(node.get(chatty.message(), "/after-spam").statusCode()).isEqualTo(200);
    }

    @Test
    void anErrorTheOwnerSeesLinksToTheLogWhichHasTheCause() throws Exception {
        Path code = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(code.resolve("main.py"), "raise RuntimeError('the app cannot start: DATABASE_URL is not set')\n");
        PublishedProgram broken = node.publish(code, Encoding.ZIP, "main:app", CodeInterface.ASGI, Resources.of(1, 128, 30),
                "broken");
        HttpResponse<String> r = node.get(broken.message(), "/");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("invalid_code");
        assertThat(error.path("log").asText()).isEqualTo(node.uri("/console/programs/" + broken.message().value() + "#logs")
                .toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> JSON.readTree(node.get("/logs/programs/" + broken.message().value())
                .body()).path("entries").toString().contains("DATABASE_URL is not set"));
    }

    private static List<String> texts(String stream) throws Exception {
        return texts(chatty.message().value(), stream);
    }

    private static List<String> texts(String program, String stream) throws Exception {
        JsonNode root = JSON.readTree(node.get("/logs/programs/" + program + "?limit=100000").body());
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode e : root.path("entries")) if (e.path("stream").asText().equals(stream)) out.add(e.path("text").asText());
        return out;
    }
}
