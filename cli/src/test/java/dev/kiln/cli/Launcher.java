package dev.kiln.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ./kiln} launcher of this checkout, as a user would, with its own Kiln home. */
final class Launcher {

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    private final Path home;
    private final Map<String, String> env;

    Launcher(Path home, Map<String, String> env) {
        this.home = home;
        this.env = env;
    }

    Launcher(Path home) {
        this(home, Map.of());
    }

    /** The repository root: failsafe runs in the cli module's directory. */
    static Path repo() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("kiln"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("not inside the Kiln checkout");
        return dir;
    }

    Result run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(repo().resolve("kiln").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KILN_HOME", home.toString());
        // The jar was just packaged by this build; a launcher that decided to rebuild it would be a bug.
        pb.environment().put("KILN_NO_BUILD", "1");
        pb.environment().remove("KILN_REMOTE");
        pb.environment().putAll(env);
        Path out = Files.createTempFile("kiln-out", ".txt");
        Path err = Files.createTempFile("kiln-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kiln " + String.join(" ", args) + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
