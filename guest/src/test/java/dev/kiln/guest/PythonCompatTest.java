package dev.kiln.guest;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** init1's package must run on Python 3.9, stay in small modules, and its fallback JSON codec must agree with the json module. */
class PythonCompatTest {
    @TempDir
    Path dir;

    /** Writes the package into dir and returns dir (the directory to put on sys.path). */
    private Path init1() throws Exception {
        GuestInit.writeInit1(dir);
        return dir;
    }

    @Test
    void everyModuleParsesWithPython39Grammar() throws Exception {
        init1();
        for (String module : GuestInit.INIT1_MODULES) {
            Path file = dir.resolve(GuestInit.INIT1_PACKAGE).resolve(module);
            String out = Pythons.run(dir, "/usr/bin/python3", "-c",
                    "import ast,sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 9)); print('ok')", file.toString());
            assertThat(out.trim()).as(module).isEqualTo("ok");
        }
    }

    @Test
    void theModuleListIsThePackageAndEveryModuleStaysSmall() throws Exception {
        Path sources = Path.of("src/main/resources/dev/kiln/guest", GuestInit.INIT1_PACKAGE);
        try (var files = Files.list(sources)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".py")).sorted())
                    .as("GuestInit.INIT1_MODULES names every module of the package").containsExactlyElementsOf(GuestInit.INIT1_MODULES);
        }
        for (String module : GuestInit.INIT1_MODULES) {
            assertThat(Files.readAllLines(sources.resolve(module))).as(module + " (the style rule: no Python file over ~800 lines)")
                    .hasSizeLessThanOrEqualTo(800);
        }
    }

    @Test
    void theOneFileFormRunsThePackageAndIsTheSameBytesEachTime() throws Exception {
        Path file = dir.resolve("init1.py");
        Files.write(file, GuestInit.init1());
        assertThat(GuestInit.init1()).as("the runtime cache key hashes these bytes").isEqualTo(Files.readAllBytes(file));
        String out = Pythons.run(dir, "/usr/bin/python3", file.toString(), "--help");
        assertThat(out).contains("usage: init1").contains("Kiln guest agent").contains("--channel");
    }

    @Test
    void everyModuleImportsOnPython39() throws Exception {
        Pythons.Python py39 = Pythons.python39OrNull();
        Assumptions.assumeTrue(py39 != null, "no Python 3.9 on this machine (pyenv's ~/.pyenv/versions/3.9.*)");
        assertThat(importEveryModule(py39, init1())).isEqualTo("imported " + GuestInit.INIT1_MODULES.size());
    }

    /** Imports kiln_init1.X for every module in a fresh interpreter; "imported N" when all did. */
    static String importEveryModule(Pythons.Python python, Path home) throws Exception {
        List<String> names = GuestInit.INIT1_MODULES.stream().map(m -> m.replace(".py", "")).toList();
        String script = "import importlib, sys\nsys.path.insert(0, sys.argv[1])\nn = 0\n"
                + "for m in sys.argv[2:]:\n    importlib.import_module('kiln_init1' if m == '__init__' else 'kiln_init1.' + m)\n    n += 1\n"
                + "print('imported', n)\n";
        List<String> command = new ArrayList<>(Pythons.command(python, "-c", script, home.toString()));
        command.addAll(names);
        return Pythons.run(home, command.toArray(String[]::new)).trim();
    }

    @Test
    void miniJsonCodecAgreesWithTheJsonModule() throws Exception {
        Path test = dir.resolve("check.py");
        Files.writeString(test, """
                import json, sys
                sys.path.insert(0, sys.argv[1])
                from kiln_init1 import json_codec as init1
                docs = ['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "x"]}', '"\\\\u00e9\\\\ud83d\\\\ude00\\\\n\\\\t\\\\""',
                        '{"nested": {"deep": [[[[{"k": "v"}]]]]}}', '0', '-0.0', '1e-7', '"\\\\/"', ' [1 , 2] ']
                for d in docs:
                    assert init1.mini_loads(d) == json.loads(d), d
                    assert json.loads(init1.mini_dumps(json.loads(d))) == json.loads(d), d
                values = ["caf\\u00e9", "\\U0001F600", "\\x00\\x1f\\x7f", {"k": [1, 2.5, None]}, "a\\\\b\\"c"]
                for v in values:
                    out = init1.mini_dumps(v)
                    assert out.isascii(), out
                    assert json.loads(out) == v, v
                bad = ['', '{', '[1,]', '{"a":1,}', '"\\x01"', 'nul', '01', '1.', '{"a" 1}', '[1] x', '"\\\\x"', '[' * 100 + ']' * 100]
                for d in bad:
                    try:
                        init1.mini_loads(d)
                    except init1.JsonError:
                        continue
                    raise AssertionError("accepted bad JSON: %r" % d)
                print("ok")
                """);
        init1();
        String out = Pythons.run(dir, "/usr/bin/python3", test.toString(), dir.toString());
        assertThat(out.trim()).isEqualTo("ok");
    }

    @Test
    void servesAsgiOnPython39() throws Exception {
        Pythons.Python py39 = Pythons.python39OrNull();
        Assumptions.assumeTrue(py39 != null, "no Python 3.9 on this machine (pyenv's ~/.pyenv/versions/3.9.*)");
        try (AgentProcess agent = AgentProcess.start(dir, py39, java.util.Map.of())) {
            assertThat(agent.connection.hello().python()).startsWith("3.9");
            agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                    ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi")))).build());
            assertThat(agent.connection.request(GuestRequest.get("/hello")).bodyText()).isEqualTo("hello");
            assertThat(agent.connection.request(GuestRequest.post("/echo", new byte[400_000])).bodyText())
                    .contains("\"length\": 400000");
            assertThat(agent.connection.request(GuestRequest.get("/stream")).bodyText()).contains("chunk 4");
            assertThat(agent.connection.request(GuestRequest.get("/crash")).status()).isEqualTo(500);
            assertThat(new String(agent.connection.event("{\"item_hash\":\"p39\"}", java.time.Duration.ofSeconds(5))
                    .readAllBytes(), StandardCharsets.UTF_8)).contains("p39");
            assertThat(agent.connection.halt(java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(10)).ok()).isTrue();
        }
    }
}
