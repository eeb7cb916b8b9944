package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kiln program create/list} through the real launcher. */
class ProgramCommandIT {
    @TempDir Path dir;

    @Test
    void createPublishesTheCodeAndAProgramMessageAndListShowsIt() throws Exception {
        Launcher kiln = new Launcher(NodeHomes.create(dir.resolve("home")));
        Launcher.Result empty = kiln.run("program", "list");
        assertThat(empty.exit()).as(empty.toString()).isZero();
        assertThat(empty.out()).contains("no programs yet");

        Path app = Files.createDirectories(dir.resolve("app"));
        Files.writeString(app.resolve("main.py"), "async def app(scope, receive, send):\n    pass\n");
        Launcher.Result created = kiln.run("program", "create", app.toString(), "--entrypoint", "main:app",
                "--runtime", "default", "--name", "hello", "--node-url", "http://node.example:4020");
        assertThat(created.exit()).as(created.toString()).isZero();
        Matcher m = Pattern.compile("published program ([0-9a-f]{64})").matcher(created.out());
        assertThat(m.find()).as(created.out()).isTrue();
        String hash = m.group(1);
        assertThat(created.out()).contains("url:     http://node.example:4020/vm/" + hash + "/").contains("(squashfs,");

        Launcher.Result again = kiln.run("program", "create", app.toString(), "--entrypoint", "main:app", "--name", "hello");
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(again.out()).contains("already published: " + hash);

        Launcher.Result zip = kiln.run("program", "create", app.toString(), "--entrypoint", "main:app", "--encoding", "zip");
        assertThat(zip.exit()).as(zip.toString()).isZero();
        assertThat(zip.out()).contains("(zip,").doesNotContain(hash);

        Launcher.Result list = kiln.run("program", "list");
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).containsPattern("(?m)^hello\\s+" + hash + "\\s+main:app \\(asgi\\)\\s+squashfs");
    }

    @Test
    void mistakesAreOneLineErrorsThatSayWhatToDo() throws Exception {
        Launcher kiln = new Launcher(NodeHomes.create(dir.resolve("home")));
        Path app = Files.createDirectories(dir.resolve("app"));
        Files.writeString(app.resolve("main.py"), "app = None\n");

        Launcher.Result missing = kiln.run("program", "create", dir.resolve("nowhere").toString(), "--entrypoint", "main:app");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("does not exist").doesNotContain("\tat ");

        Launcher.Result encoding = kiln.run("program", "create", app.toString(), "--entrypoint", "main:app", "--encoding", "tar");
        assertThat(encoding.exit()).isEqualTo(2);
        assertThat(encoding.err()).contains("--encoding must be squashfs or zip");

        Launcher.Result entry = kiln.run("program", "create", app.toString(), "--entrypoint", "main.py:app");
        assertThat(entry.exit()).as(entry.toString()).isEqualTo(1);
        assertThat(entry.err()).contains("drop the '.py'").doesNotContain("\tat ");

        Launcher.Result runtime = kiln.run("program", "create", app.toString(), "--entrypoint", "main:app", "--runtime", "nope");
        assertThat(runtime.exit()).isEqualTo(1);
        assertThat(runtime.err()).contains("--runtime 'nope' names no runtime");

        Launcher.Result noEntrypoint = kiln.run("program", "create", app.toString());
        assertThat(noEntrypoint.exit()).isEqualTo(2);
    }
}
