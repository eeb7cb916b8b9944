package dev.kiln.vm.qemu;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A VM's serial console, read by the driver instead of written by QEMU to a file, so that it is
 * bounded: QEMU connects to this socket at start-up (before the guest runs, so nothing is lost)
 * and the capture keeps the first {@link #HEAD_BYTES} (the boot) and the last {@link #TAIL_BYTES}
 * (the latest output), counting what it dropped in between. A chatty program costs memory and
 * disk up to these two numbers, whatever it prints (docs/vm.md, "Console").
 *
 * <p>The console log file holds the head while the VM runs (it is cheap and survives a killed
 * node) and is rewritten as head + a "dropped" line + tail when the console ends. Followers get
 * the kept bytes first, then each new piece on the reader thread.
 */
final class ConsoleCapture implements Closeable {
    private static final System.Logger LOG = System.getLogger(ConsoleCapture.class.getName());
    static final int HEAD_BYTES = 64 * 1024;
    static final int TAIL_BYTES = 448 * 1024;
    /** What a tail reads at most (as {@link ConsoleLog#tail}). */
    private static final int TAIL_TEXT_BYTES = 64 * 1024;

    private final ServerSocketChannel server;
    private final Path socket;
    private final Path log;
    private final byte[] head = new byte[HEAD_BYTES];
    private int headLength;
    private final byte[] ring = new byte[TAIL_BYTES];
    private int ringStart;
    private int ringLength;
    private long afterHead;
    private final List<Consumer<byte[]>> followers = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile SocketChannel connection;

    private ConsoleCapture(ServerSocketChannel server, Path socket, Path log) {
        this.server = server;
        this.socket = socket;
        this.log = log;
    }

    /** Listens on {@code socket} (a stale one is replaced); QEMU must be started after this. */
    static ConsoleCapture listen(Path socket, Path log) throws IOException {
        ServerSocketChannel server = bind(socket);
        Files.deleteIfExists(log);
        Files.createFile(log);
        return new ConsoleCapture(server, socket, log);
    }

    private static ServerSocketChannel bind(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * For an adopted VM: listens again on {@code socket}, where QEMU (started with
     * {@code reconnect}) connects within a second, and continues the log the earlier driver kept
     * (its bytes count as the head, as far as they fill it). What the guest printed while no
     * driver listened is lost: QEMU drops console output it cannot deliver.
     */
    static ConsoleCapture resume(Path socket, Path log) throws IOException {
        ConsoleCapture c = new ConsoleCapture(bind(socket), socket, log);
        if (Files.exists(log)) {
            try (var in = Files.newInputStream(log)) {
                c.headLength = in.readNBytes(c.head, 0, HEAD_BYTES);
            }
            // The file holds the head; whatever lay beyond it goes, as with any console past its head.
            if (Files.size(log) > c.headLength) Files.write(log, java.util.Arrays.copyOf(c.head, c.headLength));
        } else {
            Files.createFile(log);
        }
        return c;
    }

    /** Accepts QEMU's connection and reads it until QEMU closes it, on a virtual thread. */
    void start(String vmId) {
        Thread.ofVirtual().name("kiln-console-" + vmId).start(this::readAll);
    }

    private void readAll() {
        try (SocketChannel c = server.accept()) {
            connection = c;
            ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
            while (c.read(buffer) >= 0) {
                buffer.flip();
                byte[] piece = new byte[buffer.remaining()];
                buffer.get(piece);
                buffer.clear();
                if (piece.length > 0) append(piece);
            }
        } catch (IOException e) {
            // closed by close() (the VM ended before QEMU connected) or by QEMU's exit
        } finally {
            try {
                server.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
            writeFile();
            ended.complete(null);
        }
    }

    private synchronized void append(byte[] piece) {
        int off = 0;
        if (headLength < HEAD_BYTES) {
            int n = Math.min(HEAD_BYTES - headLength, piece.length);
            System.arraycopy(piece, 0, head, headLength, n);
            headLength += n;
            off = n;
            try {
                Files.write(log, n == piece.length ? piece : java.util.Arrays.copyOf(piece, n), StandardOpenOption.APPEND);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "cannot write " + log + ": " + e.getMessage());
            }
        }
        for (int i = off; i < piece.length; i++) {
            ring[(ringStart + ringLength) % TAIL_BYTES] = piece[i];
            if (ringLength < TAIL_BYTES) ringLength++;
            else ringStart = (ringStart + 1) % TAIL_BYTES;
        }
        afterHead += piece.length - off;
        for (Consumer<byte[]> f : followers) {
            try {
                f.accept(piece);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a console follower failed; it is dropped", e);
                followers.remove(f);
            }
        }
    }

    /** Bytes dropped between the head and the tail. */
    synchronized long dropped() {
        return afterHead - ringLength;
    }

    /** Everything kept, in order, with a line saying how much was dropped in between. */
    synchronized byte[] kept() {
        byte[] marker = dropped() > 0
                ? ("\r\n[kiln: " + dropped() + " bytes of console output dropped here: the console keeps its first "
                + HEAD_BYTES / 1024 + " KiB and last " + TAIL_BYTES / 1024 + " KiB]\r\n").getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        byte[] all = new byte[headLength + marker.length + ringLength];
        System.arraycopy(head, 0, all, 0, headLength);
        System.arraycopy(marker, 0, all, headLength, marker.length);
        for (int i = 0; i < ringLength; i++) all[headLength + marker.length + i] = ring[(ringStart + i) % TAIL_BYTES];
        return all;
    }

    /** The last lines of what is kept, cleaned as {@link ConsoleLog#tail} cleans them. */
    String tail(int lines) {
        byte[] all = kept();
        int from = Math.max(0, all.length - TAIL_TEXT_BYTES);
        return ConsoleLog.lastLines(new String(all, from, all.length - from, StandardCharsets.UTF_8), lines);
    }

    /** Replays what is kept, then passes on each new piece until the handle is closed. */
    synchronized Closeable follow(Consumer<byte[]> sink) {
        byte[] before = kept();
        if (before.length > 0) sink.accept(before);
        followers.add(sink);
        return () -> followers.remove(sink);
    }

    /** Waits (bounded) until QEMU's side closed and everything it sent was read. */
    boolean awaitEnd(Duration timeout) {
        try {
            ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    private void writeFile() {
        if (dropped() == 0 && ringLength == 0) return; // the file already holds everything
        try (OutputStream out = Files.newOutputStream(log)) {
            out.write(kept());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot write " + log + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            SocketChannel c = connection;
            if (c != null) c.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // a stale socket is replaced by the next listen()
        }
    }
}
