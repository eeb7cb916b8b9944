package dev.kiln.guest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The agent on Debian's real python3.11-minimal (no json, asyncio, zipfile, shutil, http, ctypes):
 * what a minimal runtime has. Fetched with apt-get download; a failure to fetch fails the test.
 */
class MinimalPythonTest {
    static Pythons.Python minimal;

    @TempDir
    Path dir;

    @BeforeAll
    static void fetch() throws Exception {
        minimal = Pythons.minimal();
        // Prove the isolation: the modules the agent must do without really are missing here.
        String out = Pythons.run(Path.of("."), "env", "PYTHONHOME=" + minimal.home(), minimal.executable().toString(), "-I", "-S",
                "-c", """
                ok = []
                for m in ('json', 'asyncio', 'zipfile', 'shutil', 'http.client', 'ctypes', 'queue'):
                    try:
                        __import__(m)
                        ok.append(m)
                    except ImportError:
                        pass
                print(ok)
                """);
        assertThat(out.trim()).isEqualTo("[]");
    }

    @Test
    void executableProgramWithZipCodeAndDataThenHalt() throws Exception {
        int port = ConfigureErrorsTest.freePort();
        // The program itself runs on the host's full Python: only the agent must be minimal.
        byte[] server = Files.readAllBytes(Path.of("src/test/resources/dev/kiln/guest/apps/executable/server.py"));
        // PYTHONHOME points the agent at the minimal library; the program must not inherit it.
        byte[] code = Zips.of(Map.of("bin/server.py", server,
                "bin/run.sh", "#!/bin/sh\nunset PYTHONHOME\nexec /usr/bin/python3 \"$(dirname \"$0\")/server.py\"\n".getBytes()));
        byte[] data = Zips.of(Map.of("a/b/c.txt", "deep".getBytes(), "d.txt", "x".repeat(100_000).getBytes()));
        try (AgentProcess agent = AgentProcess.start(dir, minimal, Map.of())) {
            AgentHello h = agent.connection.hello();
            assertThat(h.python()).startsWith("3.11");
            assertThat(h.capabilities()).contains("executable", "code:zip", "data:zip").doesNotContain("asgi");
            Configured c = agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                            ProgramConfig.Code.zip("bin/run.sh", Attachment.of(code)))
                    .data(Attachment.of(data)).variable("PORT", Integer.toString(port)).variable("GREETING", "minimal")
                    .sshAuthorizedKey("ssh-ed25519 AAAAkey minimal@test").port(port).build());
            assertThat(c.interfaceName()).isEqualTo("executable");
            assertThat(Files.readString(agent.root.resolve("data/a/b/c.txt"))).isEqualTo("deep");
            assertThat(Files.size(agent.root.resolve("data/d.txt"))).isEqualTo(100_000);
            assertThat(Files.readString(agent.root.resolve("root/.ssh/authorized_keys"))).contains("minimal@test");

            assertThat(agent.connection.request(GuestRequest.get("/hello")).bodyText()).isEqualTo("hello from executable");
            assertThat(agent.connection.request(GuestRequest.get("/env")).bodyText()).isEqualTo("minimal");
            String echo = agent.connection.request(GuestRequest.post("/echo", new byte[300_000])).bodyText();
            assertThat(echo).contains("\"length\": 300000");
            GuestResponse event = agent.connection.event("{\"item_hash\":\"m1\",\"content\":{\"t\":\"\\u00e9\\ud83d\\ude00\"}}",
                    Duration.ofSeconds(10));
            assertThat(event.bodyText()).contains("\"item_hash\": \"m1\"");
            assertThat(agent.connection.ping(Duration.ofSeconds(5))).isPositive();

            HaltResult r = agent.connection.halt(Duration.ofSeconds(3), Duration.ofSeconds(20));
            assertThat(r.ok()).isTrue();
            assertThat(agent.waitForExit(Duration.ofSeconds(10))).isZero();
        }
    }

    @Test
    void everyModuleImports() throws Exception {
        GuestInit.writeInit1(dir);
        assertThat(PythonCompatTest.importEveryModule(minimal, dir)).isEqualTo("imported " + GuestInit.INIT1_MODULES.size());
    }

    @Test
    void asgiIsRefusedWithAClearReason() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir, minimal, Map.of())) {
            GuestConfigureException e = catchThrowableOfType(GuestConfigureException.class, () ->
                    agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                            ProgramConfig.Code.plain("main:app", "app = 1".getBytes())).build()));
            assertThat(e.code()).isEqualTo("asgi_unavailable");
            assertThat(e.reason()).contains("asyncio");
        }
    }

    @Test
    void zipEscapeIsRefusedByTheOwnZipReader() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir, minimal, Map.of())) {
            GuestConfigureException e = catchThrowableOfType(GuestConfigureException.class, () ->
                    agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                            ProgramConfig.Code.zip("run.sh", Attachment.of(Zips.of(Map.of("run.sh", "x".getBytes(),
                                    "/etc/evil", "x".getBytes()))))).build()));
            assertThat(e.code()).isEqualTo("bad_zip");
            assertThat(e.reason()).contains("absolute");
        }
    }
}
