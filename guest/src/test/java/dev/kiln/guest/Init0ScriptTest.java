package dev.kiln.guest;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** init0 runs for real only in a VM (the runtime builder's boot test); here: syntax and lint. */
class Init0ScriptTest {
    @TempDir
    Path dir;

    private Path script() throws Exception {
        Path p = dir.resolve("init0.sh");
        Files.write(p, GuestInit.init0());
        return p;
    }

    @Test
    void parsesAsPosixSh() throws Exception {
        Pythons.run(dir, "sh", "-n", script().toString());
        if (Files.isExecutable(Path.of("/bin/dash"))) Pythons.run(dir, "/bin/dash", "-n", script().toString());
    }

    @Test
    void passesShellcheck() throws Exception {
        Assumptions.assumeTrue(Pythons.onPath("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)");
        Pythons.run(dir, "shellcheck", "-s", "sh", script().toString());
    }

    @Test
    void execsTheAgentAndFailsLoudly() {
        String s = new String(GuestInit.init0(), StandardCharsets.UTF_8);
        assertThat(s).startsWith("#!/bin/sh\n");
        assertThat(s).contains("exec \"$python\" \"$@\"").contains("/root/kiln_init1").contains("pivot_root")
                .contains("FATAL").contains("KILN_INIT0_START").contains("KILN_INIT0_EXEC");
    }
}
