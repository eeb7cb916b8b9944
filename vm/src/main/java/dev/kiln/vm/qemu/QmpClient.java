package dev.kiln.vm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A client of QEMU's machine protocol (QMP) on its Unix socket: one JSON object per line; QEMU
 * greets, the client negotiates capabilities, then sends commands, each answered by a
 * {@code return} or an {@code error} carrying the command's {@code id}; asynchronous
 * {@code event}s may come in between and are kept (the last 64).
 *
 * <p>{@link #execute} is the general call (later: {@code migrate}, {@code migrate-incoming},
 * {@code migrate-set-capabilities} for snapshots); {@link #queryStatus} and {@link #quit} are the
 * ones the driver uses today. Thread-safe; commands may be sent from several threads.
 */
public final class QmpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_LINE = 1 << 20;
    private static final int KEPT_EVENTS = 64;

    private final SocketChannel channel;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicReference<QmpException> closedBy = new AtomicReference<>();
    private final ArrayDeque<JsonNode> events = new ArrayDeque<>();

    private QmpClient(SocketChannel channel) {
        this.channel = channel;
        Thread.ofVirtual().name("kiln-qmp-reader").start(this::readLoop);
    }

    /**
     * Connects, retrying while QEMU has not created its socket yet, and negotiates capabilities.
     *
     * @throws QmpException if no monitor answers within {@code timeout}
     */
    public static QmpClient connect(Path socket, Duration timeout) throws QmpException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel ch;
        while (true) {
            try {
                ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                break;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new QmpException("cannot connect to QEMU's monitor at " + socket + ": " + e.getMessage(), e);
                }
                Thread.sleep(10);
            }
        }
        QmpClient c = new QmpClient(ch);
        try {
            c.await(c.greeting, remaining(deadline), "QEMU's QMP greeting");
            c.execute("qmp_capabilities", null, remaining(deadline));
            return c;
        } catch (QmpException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** QEMU's version and capabilities, as sent in its greeting. */
    public JsonNode greeting() {
        return greeting.getNow(null);
    }

    /**
     * Runs a command and returns its {@code return} value.
     *
     * @param arguments the command's arguments, or null for none
     * @throws QmpException if QEMU answers with an error, the connection closes, or no answer
     *                      comes within {@code timeout}
     */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws QmpException, InterruptedException {
        String id = "kiln-" + ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode().put("execute", command).put("id", id);
        if (arguments != null && !arguments.isEmpty()) msg.set("arguments", JSON.valueToTree(arguments));
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            send(msg);
            JsonNode reply = await(answer, timeout, "QEMU's answer to " + command);
            if (reply.has("error")) {
                JsonNode err = reply.get("error");
                throw new QmpException("QEMU refused " + command + ": " + err.path("desc").asText("(no description)"),
                        err.path("class").asText(null), null);
            }
            return reply.path("return");
        } finally {
            pending.remove(id);
        }
    }

    /** The VM's run state as QEMU sees it: {@code running}, {@code paused}, {@code shutdown}, … */
    public String queryStatus(Duration timeout) throws QmpException, InterruptedException {
        return execute("query-status", null, timeout).path("status").asText();
    }

    /**
     * Tells QEMU to exit at once (the guest gets no warning). QEMU may close the connection
     * before or right after answering; both count as success.
     */
    public void quit(Duration timeout) throws QmpException, InterruptedException {
        try {
            execute("quit", null, timeout);
        } catch (QmpException e) {
            if (e.errorClass() != null) throw e;
            if (closedBy.get() == null) throw e;
        }
    }

    /** The asynchronous events QEMU sent so far (the last 64), oldest first. */
    public List<JsonNode> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    public boolean isOpen() {
        return closedBy.get() == null;
    }

    @Override
    public void close() {
        fail(new QmpException("QMP connection closed by the host"));
    }

    private void send(ObjectNode msg) throws QmpException {
        QmpException closed = closedBy.get();
        if (closed != null) throw new QmpException(closed.getMessage(), closed);
        byte[] bytes = (msg + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        try {
            synchronized (channel) {
                while (buf.hasRemaining()) channel.write(buf);
            }
        } catch (IOException e) {
            QmpException q = new QmpException("writing to QEMU's monitor failed: " + e.getMessage(), e);
            fail(q);
            throw q;
        }
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            while (true) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    fail(new QmpException("QEMU closed its monitor connection"));
                    return;
                }
                for (int i = 0; i < n; i++) {
                    byte b = buf.get(i);
                    if (b == '\n') {
                        dispatch(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else if (line.size() < MAX_LINE) {
                        line.write(b);
                    } else {
                        fail(new QmpException("QEMU sent a QMP line over " + MAX_LINE + " bytes"));
                        return;
                    }
                }
            }
        } catch (IOException e) {
            fail(new QmpException("reading QEMU's monitor failed: " + e.getMessage(), e));
        }
    }

    private void dispatch(String text) {
        if (text.isBlank()) return;
        JsonNode msg;
        try {
            msg = JSON.readTree(text);
        } catch (IOException e) {
            fail(new QmpException("QEMU sent a QMP line that is not JSON: " + text));
            return;
        }
        if (msg == null || !msg.isObject()) return;
        if (msg.has("QMP")) {
            greeting.complete(msg.get("QMP"));
        } else if (msg.has("event")) {
            synchronized (events) {
                if (events.size() == KEPT_EVENTS) events.removeFirst();
                events.addLast(msg);
            }
        } else if (msg.has("return") || msg.has("error")) {
            CompletableFuture<JsonNode> f = msg.has("id") ? pending.get(msg.get("id").asText()) : null;
            if (f != null) f.complete(msg);
        }
    }

    private void fail(QmpException cause) {
        if (!closedBy.compareAndSet(null, cause)) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // the reader stops on the closed channel either way
        }
        greeting.completeExceptionally(cause);
        pending.values().forEach(f -> f.completeExceptionally(cause));
    }

    private JsonNode await(CompletableFuture<JsonNode> f, Duration timeout, String what) throws QmpException, InterruptedException {
        try {
            return f.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new QmpException("no " + what + " within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof QmpException q) throw new QmpException(q.getMessage(), q);
            throw new QmpException(what + " failed: " + e.getCause(), e.getCause());
        }
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
    }
}
