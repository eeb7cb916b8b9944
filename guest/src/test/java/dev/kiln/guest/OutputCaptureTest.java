package dev.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The program's stdout and stderr arrive as OUTPUT frames, apart from the agent's console: an
 * in-process ASGI app's print, print to stderr and logging (one agent for the checks here), a
 * flood that is dropped with a count while the newest lines and the requests still get through,
 * and an executable's two pipes.
 */
class OutputCaptureTest {
    static final String APP = """
            import logging
            import sys

            print("imported")

            async def app(scope, receive, send):
                if scope["type"] != "http":
                    return
                path = scope["path"]
                if path == "/both":
                    print("out line")
                    sys.stderr.write("err line\\n")
                    logging.getLogger("app").error("logged line")
                elif path == "/flood":
                    for i in range(50000):
                        print("flood %d" % i)
                    print("flood done")
                else:
                    sys.stdout.write("partial without newline ")
                    sys.stdout.write("then the end\\n")
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"ok"})
            """;

    @TempDir
    static Path dir;
    static AgentProcess agent;
    static final List<String> lines = new CopyOnWriteArrayList<>();
    static final AtomicLong dropped = new AtomicLong();

    @BeforeAll
    static void start() throws Exception {
        agent = AgentProcess.start(dir);
        agent.connection.followOutput(o -> {
            dropped.addAndGet(o.dropped());
            for (String l : o.lines()) lines.add(o.stream().name().toLowerCase() + "|" + l);
        });
        agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.zip("main:app", Attachment.of(Zips.of(Map.of("main.py", APP.getBytes(StandardCharsets.UTF_8))))))
                .build());
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    @Test
    void printStderrAndLoggingAreTwoStreams() {
        assertThat(agent.connection.request(GuestRequest.get("/both")).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("stderr|logged line"));
        assertThat(lines).contains("stdout|imported", "stdout|out line", "stderr|err line")
                .doesNotContain("stdout|err line", "stdout|logged line", "stderr|out line");
        assertThat(lines).noneMatch(l -> l.contains("kiln-init1:")).as("the agent's own lines stay on the console");
    }

    @Test
    void piecesOfALineMakeOneLine() {
        assertThat(agent.connection.request(GuestRequest.get("/parts")).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("stdout|partial without newline then the end"));
    }

    @Test
    void aFloodIsDroppedWithACountAndTheNewestLinesArrive() {
        GuestResponse r = agent.connection.request(GuestRequest.get("/flood"));
        assertThat(r.status()).as("printing never blocks the program").isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> lines.contains("stdout|flood done"));
        long floodLines = lines.stream().filter(l -> l.startsWith("stdout|flood ")).count();
        assertThat(dropped.get()).as("50,001 lines, a bounded buffer").isGreaterThan(10_000);
        assertThat(floodLines + dropped.get()).isEqualTo(50_001);
        assertThat(agent.connection.request(GuestRequest.get("/both")).status()).isEqualTo(200);
    }

    @Test
    void anExecutableThatDiesAtStartHasItsLastWordsSentBeforeTheFailure(@TempDir Path other) throws Exception {
        List<String> got = new CopyOnWriteArrayList<>();
        try (AgentProcess exe = AgentProcess.start(other)) {
            exe.connection.followOutput(o -> o.lines().forEach(l -> got.add(o.stream() + "|" + l)));
            GuestConfigureException e = org.assertj.core.api.Assertions.catchThrowableOfType(GuestConfigureException.class,
                    () -> exe.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                                    ProgramConfig.Code.zip("run.sh", Attachment.of(Zips.of(Map.of("run.sh",
                                            "#!/bin/sh\necho 'DATABASE_URL is not set' >&2\nexit 3\n".getBytes(StandardCharsets.UTF_8))))))
                            .port(ConfigureErrorsTest.freePort()).startupTimeout(Duration.ofSeconds(10)).build()));
            assertThat(e).isNotNull();
            assertThat(e.code()).isEqualTo("program_exited");
            assertThat(got).as("received before the CONFIGURED failure").contains("STDERR|DATABASE_URL is not set");
        }
    }

    @Test
    void anExecutablesPipesAreTwoStreams(@TempDir Path other) throws Exception {
        String server = """
                #!/usr/bin/python3
                import socket, sys
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", %d))
                s.listen(4)
                print("exe out")
                sys.stdout.flush()
                print("exe err", file=sys.stderr)
                while True:
                    c, _ = s.accept()
                    c.recv(65536)
                    c.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-length: 0\\r\\nconnection: close\\r\\n\\r\\n")
                    c.close()
                """;
        int port = ConfigureErrorsTest.freePort();
        List<String> got = new CopyOnWriteArrayList<>();
        try (AgentProcess exe = AgentProcess.start(other)) {
            exe.connection.followOutput(o -> o.lines().forEach(l -> got.add(o.stream() + "|" + l)));
            exe.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                            ProgramConfig.Code.zip("server.py", Attachment.of(Zips.of(Map.of("server.py",
                                    server.formatted(port).getBytes(StandardCharsets.UTF_8))))))
                    .port(port).startupTimeout(Duration.ofSeconds(20)).build());
            await().atMost(Duration.ofSeconds(10)).until(() -> got.contains("STDERR|exe err"));
            assertThat(got).contains("STDOUT|exe out").doesNotContain("STDOUT|exe err", "STDERR|exe out");
        }
    }
}
