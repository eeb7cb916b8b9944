package dev.kiln.builder.step;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * A program run by the build, with its working directory and extra environment. Output is merged
 * (stderr into stdout) because make interleaves its warnings with its progress and the log must
 * keep them in order.
 */
public record ExternalCommand(List<String> argv, Path directory, Map<String, String> environment) {

    public ExternalCommand {
        argv = List.copyOf(argv);
        environment = Map.copyOf(environment);
    }

    public static ExternalCommand of(Path directory, String... argv) {
        return new ExternalCommand(List.of(argv), directory, Map.of());
    }

    /** Runs a short query command and returns its trimmed output; fails on a non-zero exit. */
    public String capture(Duration timeout) throws IOException, InterruptedException {
        Process process = start();
        try {
            StringBuilder out = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> readLines(process, line -> out.append(line).append('\n')));
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("`" + this + "` did not finish within " + timeout.toSeconds() + " s");
            }
            reader.join();
            String text = out.toString().strip();
            if (process.exitValue() != 0) {
                throw new IOException("`" + this + "` exited with status " + process.exitValue() + ": " + text);
            }
            return text;
        } finally {
            stop(process);
        }
    }

    /**
     * Runs the command to completion, handing every output line to {@code onLine}; returns the
     * exit status. If the calling thread is interrupted, the whole process tree is killed (make
     * leaves compilers running otherwise) before the interruption propagates.
     */
    public int run(Consumer<String> onLine) throws IOException, InterruptedException {
        return run(onLine, null, bytes -> { });
    }

    /**
     * Like {@link #run(Consumer)}, with {@code input}'s bytes fed to the command's standard input
     * and {@code onInputBytes} told how many have been fed so far: an exact progress measure for
     * commands that consume a file as a stream, such as {@code tar -x}.
     */
    public int run(Consumer<String> onLine, Path input, LongConsumer onInputBytes) throws IOException, InterruptedException {
        Process process = start(input != null);
        try {
            Thread reader = Thread.ofVirtual().name("output of " + argv.getFirst()).start(() -> readLines(process, onLine));
            if (input != null) feed(process, input, onInputBytes);
            int status = process.waitFor();
            reader.join();
            return status;
        } finally {
            stop(process);
        }
    }

    private static void readLines(Process process, Consumer<String> onLine) {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) onLine.accept(line);
        } catch (IOException e) {
            // the stream closes when the process is killed; its exit status tells what happened
        }
    }

    private static void feed(Process process, Path input, LongConsumer onInputBytes) throws IOException, InterruptedException {
        try (InputStream in = Files.newInputStream(input); OutputStream out = process.getOutputStream()) {
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0; ) {
                if (Thread.interrupted()) throw new InterruptedException();
                out.write(buffer, 0, n);
                total += n;
                onInputBytes.accept(total);
            }
        } catch (IOException e) {
            // A consumer that dies early closes the pipe; its exit status and output explain why.
            if (process.isAlive()) throw e;
        }
    }

    private Process start() throws IOException {
        return start(false);
    }

    private Process start(boolean withInput) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(argv).directory(directory.toFile()).redirectErrorStream(true);
        builder.environment().putAll(environment);
        // Messages from make and the compilers must be parseable whatever the user's locale.
        builder.environment().put("LC_ALL", "C");
        Process process = builder.start();
        // Nothing reads a terminal: a command asking for input gets end-of-file instead of hanging.
        if (!withInput) process.getOutputStream().close();
        return process;
    }

    /** Ends the process and everything it started (make's compilers, tar's xz), gently first. */
    private static void stop(Process process) {
        if (!process.isAlive()) return;
        List<ProcessHandle> tree = process.descendants().toList();
        tree.forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (process.waitFor(5, TimeUnit.SECONDS)) return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tree.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    @Override
    public String toString() {
        return String.join(" ", argv);
    }
}
