package dev.kiln.node.logs;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestConnection;
import dev.kiln.guest.GuestOutput;
import dev.kiln.vm.Vm;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The node's per-VM logs, in memory and bounded ({@link LogSettings}): each VM's console, cut
 * into lines and sorted into streams, plus what the node itself says about the VM. Readers page
 * through with sequence numbers; followers get each new entry as it is added (the live stream).
 * A node restart forgets them; the VM driver's own console archive stays on disk (docs/vm.md).
 */
public final class LogStore {
    private static final System.Logger LOG = System.getLogger(LogStore.class.getName());
    /** After the VMM exits, its last console bytes still arrive for a moment. */
    private static final Duration END_DRAIN = Duration.ofMillis(300);

    private final LogSettings settings;
    private final Map<String, VmLog> logs = new LinkedHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final List<Follower> followers = new CopyOnWriteArrayList<>();
    private long totalBytes;

    private record Follower(Predicate<LogEntry> filter, Consumer<LogEntry> sink) {
    }

    public LogStore(LogSettings settings) {
        this.settings = settings;
    }

    public LogSettings settings() {
        return settings;
    }

    /** Starts the log of a VM the pool has just launched and follows its console. */
    public void attach(String vmId, ItemHash program, Vm vm) {
        VmLog log = open(vmId, program);
        ConsoleLines lines = new ConsoleLines((stream, text) -> add(log, stream, text));
        Closeable following = vm.followConsole(bytes -> {
            synchronized (lines) {
                lines.feed(bytes);
            }
        });
        Closeable output = followOutput(log, vm);
        vm.exited().whenComplete((status, err) -> Thread.ofVirtual().name("kiln-log-end-" + vmId).start(() -> {
            try {
                Thread.sleep(END_DRAIN);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                following.close();
                output.close();
            } catch (IOException ignored) {
                // nothing more will come
            }
            synchronized (lines) {
                lines.finish();
            }
            add(log, LogStream.NODE, "[kiln: the VM ended" + (status == null ? "" : ", its VMM exited with status " + status) + "]");
            end(log);
        }));
    }

    /** The program's stdout and stderr, which the agent sends apart from the console. */
    private Closeable followOutput(VmLog log, Vm vm) {
        GuestConnection guest = vm.guest();
        if (guest == null) return () -> { };
        return guest.followOutput(o -> {
            LogStream stream = o.stream() == GuestOutput.Stream.STDOUT ? LogStream.STDOUT : LogStream.STDERR;
            if (o.dropped() > 0) {
                log.droppedByGuest(o.dropped());
                add(log, LogStream.NODE, "[kiln: the guest dropped " + o.dropped() + " lines of " + stream.wire()
                        + ": the program printed faster than the log takes]");
            }
            for (String line : o.lines()) add(log, stream, line);
        });
    }

    /** A boot that failed before there was a VM to follow: its message (with the console's tail) is its log. */
    public void bootFailed(String vmId, ItemHash program, String message) {
        VmLog log = open(vmId, program);
        for (String line : message.split("\n")) add(log, LogStream.NODE, line);
        end(log);
    }

    public Optional<VmLog> vm(String vmId) {
        synchronized (logs) {
            return Optional.ofNullable(logs.get(vmId));
        }
    }

    /** The logs of a program's VMs, newest first. */
    public List<VmLog> ofProgram(ItemHash program) {
        synchronized (logs) {
            return logs.values().stream().filter(l -> l.program().equals(program))
                    .sorted(Comparator.comparing(VmLog::startedAt).reversed()).toList();
        }
    }

    /** Every log kept, newest first. */
    public List<VmLog> all() {
        synchronized (logs) {
            return logs.values().stream().sorted(Comparator.comparing(VmLog::startedAt).reversed()).toList();
        }
    }

    public long totalBytes() {
        synchronized (logs) {
            return totalBytes;
        }
    }

    /** The last sequence number given out: a follower that starts now sees only entries after it. */
    public long lastSeq() {
        return seq.get();
    }

    /**
     * Calls {@code sink} with each new entry that passes {@code filter}, on the thread that adds
     * it (so the sink must only hand the entry over, e.g. to a queue), until the handle is closed.
     */
    public Closeable follow(Predicate<LogEntry> filter, Consumer<LogEntry> sink) {
        Follower f = new Follower(filter, sink);
        followers.add(f);
        return () -> followers.remove(f);
    }

    private VmLog open(String vmId, ItemHash program) {
        VmLog log = new VmLog(vmId, program, Instant.now(), settings.perVmBytes());
        synchronized (logs) {
            VmLog old = logs.remove(vmId);
            if (old != null) totalBytes -= old.bytes();
            logs.put(vmId, log);
        }
        return log;
    }

    private void add(VmLog log, LogStream stream, String text) {
        LogEntry e = new LogEntry(seq.incrementAndGet(), Instant.now(), log.vm(), stream, text);
        synchronized (logs) {
            if (logs.get(log.vm()) != log) return; // dropped to make room: nothing more is kept of it
            totalBytes += log.add(e);
            enforceTotal();
        }
        for (Follower f : followers) {
            try {
                if (f.filter().test(e)) f.sink().accept(e);
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "a log follower failed; it is dropped", ex);
                followers.remove(f);
            }
        }
    }

    private void end(VmLog log) {
        log.end(Instant.now());
        synchronized (logs) {
            List<VmLog> ended = new ArrayList<>(logs.values().stream().filter(VmLog::ended).toList());
            ended.sort(Comparator.comparing(VmLog::startedAt));
            for (int i = 0; i < ended.size() - settings.endedVmsKept(); i++) remove(ended.get(i));
        }
    }

    /** Over the total: the oldest ended VMs' logs go first, then the oldest lines of the biggest log. */
    private void enforceTotal() {
        if (totalBytes <= settings.totalBytes()) return;
        List<VmLog> ended = new ArrayList<>(logs.values().stream().filter(VmLog::ended).toList());
        ended.sort(Comparator.comparing(VmLog::startedAt));
        for (VmLog l : ended) {
            if (totalBytes <= settings.totalBytes()) return;
            remove(l);
        }
        while (totalBytes > settings.totalBytes()) {
            VmLog biggest = logs.values().stream().max(Comparator.comparingLong(VmLog::bytes)).orElse(null);
            if (biggest == null) return;
            long freed = biggest.dropOldest();
            if (freed == 0) return;
            totalBytes -= freed;
        }
    }

    private void remove(VmLog l) {
        if (logs.remove(l.vm()) != null) totalBytes -= l.bytes();
    }
}
