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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logs of a real QEMU microVM (one boot shared by the checks): the console's lines sorted
 * into streams, the JSON endpoint, the live stream that {@code kiln logs -f} reads, the bounds
 * with a program that prints megabytes, and the log link of an error a program's owner sees.
 */
class QemuLogsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CHATTY = """
            async def app(scope, receive, send):
                if scope["type"] != "http":
                    return
                path = scope["path"]
                if path == "/spam":
                    for i in range(40000):
                        print("spam line %d of a program that prints far too much" % i)
                    print("spam done", flush=True)
                else:
                    print("hello from chatty " + path, flush=True)
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"ok"})
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
    void theConsoleIsSplitIntoKernelInitAndProgramLines() throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> texts("program").contains("hello from chatty /first"));
        assertThat(texts("init")).anyMatch(t -> t.startsWith("kiln-init0:")).anyMatch(t -> t.startsWith("kiln-init1:"));
        assertThat(texts("program")).noneMatch(t -> t.startsWith("kiln-init"));
        JsonNode root = JSON.readTree(node.get("/logs/programs/" + chatty.message().value() + "?streams=program").body());
        assertThat(root.path("vms").get(0).path("program").asText()).isEqualTo(chatty.message().value());
        assertThat(root.path("vms").get(0).path("ended_at").isNull()).isTrue();
        for (JsonNode e : root.path("entries")) assertThat(e.path("stream").asText()).isEqualTo("program");
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
            await().atMost(Duration.ofSeconds(10)).until(() -> got.contains("program|hello from chatty /live"));
            assertThat(got).noneMatch(s -> s.contains("/first")).as("nothing before 'after' is sent again");
        } finally {
            follower.interrupt();
        }
    }

    @Test
    void aProgramPrintingMegabytesStaysWithinTheBounds() throws Exception {
        assertThat(node.get(chatty.message(), "/spam").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> texts("program").contains("spam done"));
        VmLog log = node.node.logs().ofProgram(chatty.message()).getFirst();
        assertThat(log.bytes()).isLessThanOrEqualTo(256 * 1024);
        assertThat(log.dropped()).as("about 2 MB were printed").isGreaterThan(10_000);
        var vm = node.node.pool().running(chatty.message()).orElseThrow().vm();
        assertThat(Files.size(vm.consoleLog())).as("the driver's console file holds only the boot while the VM runs")
                .isLessThanOrEqualTo(64 * 1024);
        assertThat(vm.consoleTail(1)).isEqualTo("spam done");
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
        JsonNode root = JSON.readTree(node.get("/logs/programs/" + chatty.message().value() + "?limit=100000").body());
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode e : root.path("entries")) if (e.path("stream").asText().equals(stream)) out.add(e.path("text").asText());
        return out;
    }
}
