package dev.kiln.vm;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Follows a console that a driver writes to a growing file (the default of
 * {@link Vm#followConsole}): reads what is new every {@value #POLL_MILLIS} ms until the VM has
 * exited and the file is drained, or the handle is closed.
 */
final class ConsoleFileFollower implements Closeable {
    private static final long POLL_MILLIS = 200;
    private static final int CHUNK = 64 * 1024;

    private final Vm vm;
    private final Consumer<byte[]> sink;
    private volatile boolean closed;
    private long offset;

    private ConsoleFileFollower(Vm vm, Consumer<byte[]> sink) {
        this.vm = vm;
        this.sink = sink;
    }

    static ConsoleFileFollower start(Vm vm, Consumer<byte[]> sink) {
        ConsoleFileFollower f = new ConsoleFileFollower(vm, sink);
        Thread.ofVirtual().name("kiln-console-follow-" + vm.id()).start(f::run);
        return f;
    }

    private void run() {
        try {
            while (!closed) {
                boolean ended = vm.exited().isDone();
                readNew(vm.consoleLog());
                if (ended) return;
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void readNew(Path file) {
        if (file == null || !Files.isRegularFile(file)) return;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            if (length < offset) offset = 0; // replaced by a new file: start over
            while (offset < length && !closed) {
                byte[] b = new byte[(int) Math.min(CHUNK, length - offset)];
                f.seek(offset);
                f.readFully(b);
                offset += b.length;
                sink.accept(b);
            }
        } catch (IOException e) {
            // moved or removed between the check and the read: the next poll sees where it is
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
