package dev.kiln.builder.step;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The full output of one build (kernel or runtime), in a file: the user sees a progress bar, and on failure
 * the last lines of this log. The tail is also kept in memory so a failure does not have to
 * re-read a log of thousands of lines.
 */
public final class BuildLog implements AutoCloseable {

    public static final int TAIL_LINES = 40;

    private final Path file;
    private final BufferedWriter writer;
    private final Deque<String> tail = new ArrayDeque<>();

    public BuildLog(Path file) throws IOException {
        this.file = file;
        Files.createDirectories(file.getParent());
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    public Path file() {
        return file;
    }

    public synchronized void line(String text) {
        try {
            writer.write(text);
            writer.newLine();
        } catch (IOException e) {
            // A full disk shows up in the build itself; losing log lines must not hide that error.
        }
        tail.addLast(text);
        if (tail.size() > TAIL_LINES) tail.removeFirst();
    }

    /** Runs a command, logging it and its output; a non-zero exit is an IOException naming it. */
    public void run(ExternalCommand command, Consumer<String> onLine) throws IOException, InterruptedException {
        line("$ " + command);
        int status = command.run(text -> {
            line(text);
            onLine.accept(text);
        });
        if (status != 0) throw new IOException("`" + command + "` exited with status " + status);
    }

    public void run(ExternalCommand command) throws IOException, InterruptedException {
        run(command, text -> { });
    }

    public synchronized List<String> tail() {
        return new ArrayList<>(tail);
    }

    @Override
    public synchronized void close() throws IOException {
        writer.close();
    }

    public synchronized void flush() throws IOException {
        writer.flush();
    }
}
