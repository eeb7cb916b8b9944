package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.testing.TestBuilds;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slimming must not break what a runtime is for: each official image is unpacked and its own
 * programs are run in a chroot (its Python imports FastAPI and friends; its Node.js runs). The
 * boot test proves init0 and init1; this proves the libraries programs use survived.
 */
class OfficialRuntimeContentTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "debian-12-python | python3 | -c | import asyncio, ssl, sqlite3, zoneinfo, fastapi, starlette, pydantic, multipart; print('ok', fastapi.__version__, ssl.OPENSSL_VERSION.split()[1], zoneinfo.ZoneInfo('Europe/Paris').key)",
            "debian-11-python | python3 | -c | import asyncio, ssl, sqlite3, fastapi, starlette, pydantic, multipart; print('ok', fastapi.__version__, ssl.OPENSSL_VERSION.split()[1])",
            "debian-12-node   | node    | -e | const https = require('https'); const zlib = require('zlib'); console.log('ok', process.version, typeof https.get, zlib.gzipSync('x').length > 0)",
            "minimal          | python3 | -c | import socket, struct, zlib, fcntl, subprocess; print('ok', zlib.crc32(b'kiln'))",
    })
    void theRuntimesOwnProgramsRun(String name, String program, String flag, String code, @TempDir Path dir) throws Exception {
        BuiltRuntime runtime = TestBuilds.runtime(name);
        Path tree = dir.resolve("tree");
        ExternalCommand.of(dir, "unsquashfs", "-no-progress", "-d", tree.toString(), runtime.image().toString())
                .capture(Duration.ofMinutes(2));
        List<String> output = new ArrayList<>();
        try (BuildLog log = new BuildLog(dir.resolve("chroot.log"))) {
            new Chroot(new RootFs(tree), null, log, 0).run(List.of(program, flag, code), output::add);
        } finally {
            FileTrees.delete(tree);
        }
        assertThat(output).as(String.join("\n", output)).anyMatch(l -> l.startsWith("ok "));
    }
}
