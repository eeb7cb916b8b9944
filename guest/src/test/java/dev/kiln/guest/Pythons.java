package dev.kiln.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The interpreters the agent is tested with. */
final class Pythons {
    /** A Python and the extra arguments/environment it needs. */
    record Python(Path executable, List<String> args, Path home) {
    }

    private Pythons() {
    }

    /** Debian's full Python 3 (not a pyenv shim from PATH): what ASGI runtimes ship. */
    static Python full() {
        Path p = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(p)) {
            throw new AssertionError("/usr/bin/python3 is required for the guest tests (apt-get install python3)");
        }
        return new Python(p, List.of(), null);
    }

    /** pyenv's 3.9 when this machine has one (the oldest Python the agent supports), else null. */
    static Python python39OrNull() {
        Path versions = Path.of(System.getProperty("user.home"), ".pyenv", "versions");
        if (!Files.isDirectory(versions)) return null;
        try (var list = Files.list(versions)) {
            return list.filter(d -> d.getFileName().toString().startsWith("3.9."))
                    .map(d -> d.resolve("bin/python3.9")).filter(Files::isExecutable).findFirst()
                    .map(p -> new Python(p, List.of(), null)).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Debian's python3.11-minimal, as a minimal runtime has it: fetched with apt-get download,
     * unpacked with dpkg -x, run isolated (-E -s -S: no environment, user site or site; the
     * standard library found from the executable's place) so that nothing of the host's full
     * standard library can leak in. Not -I, which would also keep the working directory off
     * sys.path, where {@code -m kiln_init1} finds the agent. Cached under target/.
     */
    static synchronized Python minimal() throws IOException, InterruptedException {
        Path cache = Path.of("target", "python-minimal").toAbsolutePath();
        Path root = cache.resolve("root");
        Path python = root.resolve("usr/bin/python3.11");
        if (!Files.isExecutable(python)) {
            Files.createDirectories(cache);
            run(cache, "apt-get", "download", "libpython3.11-minimal", "python3.11-minimal");
            List<Path> debs;
            try (var list = Files.list(cache)) {
                debs = list.filter(f -> f.toString().endsWith(".deb")).toList();
            }
            if (debs.size() < 2) throw new AssertionError("apt-get download did not produce the two .deb files in " + cache);
            for (Path deb : debs) run(cache, "dpkg", "-x", deb.toString(), root.toString());
        }
        if (!Files.isExecutable(python)) throw new AssertionError("no python3.11 in the extracted python3.11-minimal");
        return new Python(python, List.of("-E", "-s", "-S"), root.resolve("usr"));
    }

    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (is apt usable here? run 'apt-get update'):\n" + out);
        }
        return out;
    }

    static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) return true;
        }
        return false;
    }

    static List<String> command(Python python, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(python.executable().toString());
        cmd.addAll(python.args());
        cmd.addAll(List.of(args));
        return cmd;
    }
}
