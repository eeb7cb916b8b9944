package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Each configuration error comes back as a reason the node can show, and the agent survives it. */
class ConfigureErrorsTest {
    @TempDir
    Path dir;

    private GuestConfigureException configureFails(ProgramConfig config) throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            GuestConfigureException e = catchThrowableOfType(GuestConfigureException.class,
                    () -> agent.connection.configure(config, Duration.ofSeconds(30)));
            assertThat(e).as("configure should fail").isNotNull();
            // The agent is still alive and answering.
            assertThat(agent.connection.ping(Duration.ofSeconds(5))).isPositive();
            return e;
        }
    }

    private static ProgramConfig asgi(String entrypoint, byte[] zip) {
        return ProgramConfig.builder(ProgramConfig.Interface.ASGI, ProgramConfig.Code.zip(entrypoint, Attachment.of(zip))).build();
    }

    private static ProgramConfig executable(String script, int port, Duration startup) {
        return ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                        ProgramConfig.Code.zip("run.sh", Attachment.of(Zips.of(Map.of("run.sh", script.getBytes())))))
                .port(port).startupTimeout(startup).build();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void missingModule() throws Exception {
        GuestConfigureException e = configureFails(asgi("nosuchmodule:app", Zips.of(Map.of("main.py", "app = 1".getBytes()))));
        assertThat(e.code()).isEqualTo("module_not_found");
        assertThat(e.reason()).contains("nosuchmodule");
        assertThat(e.traceback()).contains("Traceback");
    }

    @Test
    void missingAttribute() throws Exception {
        GuestConfigureException e = configureFails(asgi("main:apps", Zips.of(Map.of("main.py", "app = 1".getBytes()))));
        assertThat(e.code()).isEqualTo("entrypoint_not_found");
        assertThat(e.reason()).contains("apps");
    }

    @Test
    void malformedEntrypoint() throws Exception {
        GuestConfigureException e = configureFails(asgi("main:app;rm -rf /", Zips.of(Map.of("main.py", "app = 1".getBytes()))));
        assertThat(e.code()).isEqualTo("bad_config");
    }

    @Test
    void moduleThatRaisesOnImport() throws Exception {
        GuestConfigureException e = configureFails(asgi("main:app", Zips.of(Map.of("main.py", "raise ValueError('boom')".getBytes()))));
        assertThat(e.code()).isEqualTo("import_failed");
        assertThat(e.reason()).contains("ValueError").contains("boom");
    }

    @Test
    void zipEntryEscapingItsDirectory() throws Exception {
        GuestConfigureException e = configureFails(asgi("main:app",
                Zips.of(Map.of("main.py", "app = 1".getBytes(), "../../escaped.txt", "x".getBytes()))));
        assertThat(e.code()).isEqualTo("bad_zip");
        assertThat(e.reason()).contains("escapes");
        assertThat(dir.resolve("escaped.txt")).doesNotExist();
        assertThat(dir.resolve("root/escaped.txt")).doesNotExist();
    }

    @Test
    void zipEntryThatIsASymlink() throws Exception {
        Path zip = dir.resolve("symlink.zip");
        Pythons.run(dir, "/usr/bin/python3", "-c", """
                import zipfile, stat, sys
                with zipfile.ZipFile(sys.argv[1], 'w') as z:
                    z.writestr('main.py', 'app = 1')
                    info = zipfile.ZipInfo('link')
                    info.create_system = 3
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    z.writestr(info, '/etc/passwd')
                """, zip.toString());
        GuestConfigureException e = configureFails(asgi("main:app", Files.readAllBytes(zip)));
        assertThat(e.code()).isEqualTo("bad_zip");
        assertThat(e.reason()).contains("symbolic link");
    }

    @Test
    void corruptZip() throws Exception {
        byte[] zip = Zips.of(Map.of("main.py", "app = 1\n".repeat(100).getBytes()));
        zip[40] ^= 0x55;
        GuestConfigureException e = configureFails(asgi("main:app", zip));
        assertThat(e.code()).isEqualTo("bad_zip");
    }

    @Test
    void notAZipAtAll() throws Exception {
        GuestConfigureException e = configureFails(asgi("main:app", "definitely not a zip".getBytes()));
        assertThat(e.code()).isEqualTo("bad_zip");
    }

    @Test
    void executableThatExitsImmediately() throws Exception {
        GuestConfigureException e = configureFails(executable("#!/bin/sh\nexit 3\n", freePort(), Duration.ofSeconds(10)));
        assertThat(e.code()).isEqualTo("program_exited");
        assertThat(e.reason()).contains("status 3");
    }

    @Test
    void executableThatNeverListensFailsWithinItsBound() throws Exception {
        long start = System.nanoTime();
        GuestConfigureException e = configureFails(executable("#!/bin/sh\nexec sleep 30\n", freePort(), Duration.ofSeconds(2)));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(e.code()).isEqualTo("program_not_listening");
        assertThat(e.reason()).contains("within 2");
        assertThat(ms).isLessThan(10_000);
    }

    @Test
    void executableEntrypointEscapingTheCode() throws Exception {
        ProgramConfig config = ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                ProgramConfig.Code.zip("../../bin/sh", Attachment.of(Zips.of(Map.of("run.sh", "x".getBytes()))))).build();
        assertThat(configureFails(config).code()).isEqualTo("bad_config");
    }

    @Test
    void squashfsCodeOutsideSystemModeIsNotFaked() throws Exception {
        ProgramConfig config = ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.squashfs("main:app", "/dev/vdb")).build();
        GuestConfigureException e = configureFails(config);
        assertThat(e.code()).isEqualTo("mount_failed");
        assertThat(e.reason()).contains("system mode");
    }

    @Test
    void lifespanStartupFailureIsReported() throws Exception {
        String app = """
                async def app(scope, receive, send):
                    if scope["type"] == "lifespan":
                        await receive()
                        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
                """;
        ProgramConfig config = ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.plain("main:app", app.getBytes(StandardCharsets.UTF_8))).build();
        GuestConfigureException e = configureFails(config);
        assertThat(e.code()).isEqualTo("lifespan_failed");
        assertThat(e.reason()).contains("database unreachable");
    }

    @Test
    void plainCodeWithoutLifespanSupportIsServed() throws Exception {
        String app = """
                async def app(scope, receive, send):
                    assert scope["type"] == "http"
                    await send({"type": "http.response.start", "status": 201, "headers": []})
                    await send({"type": "http.response.body", "body": b"plain ok"})
                """;
        try (AgentProcess agent = AgentProcess.start(dir)) {
            Configured c = agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                    ProgramConfig.Code.plain("app", app.getBytes(StandardCharsets.UTF_8))).build());
            assertThat(c.lifespan()).isEqualTo("unsupported");
            GuestResponse r = agent.connection.request(GuestRequest.get("/"));
            assertThat(r.status()).isEqualTo(201);
            assertThat(r.bodyText()).isEqualTo("plain ok");
        }
    }

    @Test
    void invalidConfigurationValues() throws Exception {
        ProgramConfig config = ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                        ProgramConfig.Code.plain("main:app", "app = 1".getBytes()))
                .sshAuthorizedKey("not a key\nwith a newline").build();
        assertThat(configureFails(config).code()).isEqualTo("bad_config");
    }
}
