package dev.kiln.node.control;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.logs.LogEntry;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.logs.VmLog;
import dev.kiln.node.persistent.RestartHistory;
import dev.kiln.node.pool.Execution;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.volume.VolumeException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Persistent programs ({@code on.persistent: true}) as the operator API sees them, in the pool's
 * terms: allocating is {@link ExecutionPool#keepRunning}, stopping is {@link ExecutionPool#release}
 * (its VM stops gracefully and is not restarted), rebooting replaces the VM once the old one has
 * exited, erasing also deletes the persistent volumes the message declares once its VM is gone.
 */
public final class PersistentPrograms implements Machines {
    private static final System.Logger LOG = System.getLogger(PersistentPrograms.class.getName());

    private final ExecutionPool pool;
    private final ProgramResolver resolver;
    private final LogStore logs;
    /** When each program was last allocated: the "since" of a machine that is not serving yet. */
    private final Map<ItemHash, Instant> allocatedAt = new ConcurrentHashMap<>();

    public PersistentPrograms(ExecutionPool pool, ProgramResolver resolver, LogStore logs) {
        this.pool = pool;
        this.resolver = resolver;
        this.logs = logs;
    }

    @Override
    public MachineKind kind() {
        return MachineKind.PERSISTENT_PROGRAM;
    }

    @Override
    public List<MachineInfo> list() {
        List<MachineInfo> out = new ArrayList<>();
        pool.persistent().forEach((h, view) -> {
            Optional<Execution> serving = pool.running(h);
            String state = switch (view.status()) {
                case RUNNING -> serving.isPresent() ? "running" : "starting";
                case RESTARTING -> "restarting";
                case FAILED -> "failed";
            };
            Instant since = serving.map(e -> e.view().startedAt()).orElse(allocatedAt.getOrDefault(h, Instant.now()));
            Map<String, String> detail = new LinkedHashMap<>();
            detail.put("restarts", Integer.toString(view.restarts()));
            if (view.lastFailure() != null) detail.put("last_failure", view.lastFailure());
            if (view.nextAttempt() != null) detail.put("next_attempt", view.nextAttempt().toString());
            serving.ifPresent(e -> detail.put("execution", e.id()));
            out.add(new MachineInfo(h, kind(), state, since, Optional.empty(), detail));
        });
        return out;
    }

    @Override
    public void allocate(ItemHash h) throws NodeException {
        ProgramContent p = content(h);
        if (!p.isPersistent()) {
            throw new NodeException(ErrorCode.UNSUPPORTED, "program " + h + " is not persistent (content.on.persistent"
                    + " is not true): on-demand programs start with their first request, not by allocation");
        }
        RestartHistory.View view = pool.persistent().get(h);
        if (view != null && view.status() != RestartHistory.Status.FAILED) return;
        // New, or given up after too many failures: allocating again starts it with a fresh history.
        if (view != null) pool.release(h, "allocated again after failing");
        allocatedAt.put(h, Instant.now());
        pool.keepRunning(h);
    }

    @Override
    public void stop(ItemHash h) throws NodeException {
        if (!pool.release(h, "stopped by the operator")) throw notKept(h);
        allocatedAt.remove(h);
    }

    @Override
    public void reboot(ItemHash h) throws NodeException {
        if (!pool.reboot(h, "rebooted by the operator")) throw notKept(h);
    }

    @Override
    public void erase(ItemHash h) throws NodeException {
        ProgramContent p = content(h);
        Optional<PersistentVolumes> store = pool.persistentVolumes();
        List<String> names = p.volumesOrEmpty().stream()
                .filter(v -> v instanceof PersistentVolume pv && pv.knownPersistence().orElse(null) == Persistence.HOST)
                .map(v -> ((PersistentVolume) v).name()).toList();
        allocatedAt.remove(h);
        pool.releaseAndWait(h, "erased by the operator").whenComplete((ok, x) -> {
            if (store.isEmpty()) return;
            for (String name : names) {
                try {
                    if (store.get().delete(p.address(), name)) {
                        LOG.log(System.Logger.Level.INFO, "erased persistent volume '" + name + "' of program " + h);
                    }
                } catch (VolumeException e) {
                    LOG.log(System.Logger.Level.WARNING, "erase of program " + h + ": " + e.getMessage());
                }
            }
        });
    }

    /** The console of the program's VMs, oldest first, each headed by a line naming it, cut to the last {@code maxBytes}. */
    @Override
    public String logs(ItemHash h, int maxBytes) throws NodeException {
        content(h);
        StringBuilder text = new StringBuilder();
        for (VmLog log : logs.ofProgram(h).reversed()) {
            text.append("--- ").append(log.vm()).append(", started ").append(log.startedAt())
                    .append(log.ended() ? ", ended " + log.endedAt() : ", running").append('\n');
            for (LogEntry e : log.entries(0, Set.of(), Integer.MAX_VALUE)) {
                text.append('[').append(e.stream().wire().toLowerCase(Locale.ROOT)).append("] ").append(e.text()).append('\n');
            }
        }
        return tail(text.toString(), maxBytes);
    }

    /** The last {@code maxBytes} of {@code s} in UTF-8, starting at a line where it can. */
    static String tail(String s, int maxBytes) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= maxBytes) return s;
        int from = b.length - maxBytes;
        while (from < b.length && (b[from] & 0xC0) == 0x80) from++; // not inside a character
        String cut = new String(b, from, b.length - from, StandardCharsets.UTF_8);
        int nl = cut.indexOf('\n');
        return nl >= 0 && nl < cut.length() - 1 ? cut.substring(nl + 1) : cut;
    }

    private ProgramContent content(ItemHash h) throws NodeException {
        return resolver.message(h).contentAs(ProgramContent.class);
    }

    private static NodeException notKept(ItemHash h) {
        return new NodeException(ErrorCode.NOT_FOUND, "persistent program " + h + " is not allocated on this node");
    }
}
