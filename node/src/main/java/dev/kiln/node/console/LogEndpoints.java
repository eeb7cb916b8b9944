package dev.kiln.node.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.logs.LogEntry;
import dev.kiln.node.logs.LogStore;
import dev.kiln.node.logs.LogStream;
import dev.kiln.node.logs.VmLog;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The logs as JSON and as live streams (docs/node.md, "Logs"):
 * {@code GET /logs}, {@code /logs/programs/<hash>}, {@code /logs/vms/<id>} (entries, with
 * {@code ?after=SEQ&streams=program,init&limit=N}) and the same paths + {@code /stream} (SSE:
 * event {@code log}, id = seq, data = the entry as JSON). The console's log panels use the HTML
 * form of the stream ({@code /console/logs/...}).
 */
final class LogEndpoints {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_LIMIT = 1000;

    private final LogStore store;
    private final BooleanSupplier closing;

    LogEndpoints(LogStore store, BooleanSupplier closing) {
        this.store = store;
        this.closing = closing;
    }

    /** The VM logs a path names: {@code programs/<hash>} or {@code vms/<id>}; null if it names none. */
    Selection select(String rest) {
        if (rest.startsWith("programs/")) {
            ItemHash program;
            try {
                program = ItemHash.parse(rest.substring("programs/".length()));
            } catch (RuntimeException e) {
                return null;
            }
            return new Selection(s -> s.ofProgram(program), e -> s(e, program), () -> closing.getAsBoolean());
        }
        if (rest.startsWith("vms/")) {
            String id = rest.substring("vms/".length());
            return new Selection(s -> s.vm(id).map(List::of).orElse(List.of()), e -> e.vm().equals(id),
                    () -> closing.getAsBoolean() || store.vm(id).map(VmLog::ended).orElse(true));
        }
        return null;
    }

    private boolean s(LogEntry e, ItemHash program) {
        return store.vm(e.vm()).map(l -> l.program().equals(program)).orElse(false);
    }

    record Selection(java.util.function.Function<LogStore, List<VmLog>> logs, java.util.function.Predicate<LogEntry> belongs,
                     BooleanSupplier over) {
    }

    void index(ServerResponse res) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("per_vm_bytes", store.settings().perVmBytes());
        root.put("total_bytes", store.settings().totalBytes());
        root.put("ended_vms_kept", store.settings().endedVmsKept());
        root.put("bytes_kept", store.totalBytes());
        ArrayNode vms = root.putArray("vms");
        for (VmLog l : store.all()) vms.add(describe(l));
        json(res, root);
    }

    void entries(Selection sel, ServerRequest req, ServerResponse res) throws IOException {
        long after = longParam(req, "after", 0);
        int limit = (int) Math.min(100_000, longParam(req, "limit", DEFAULT_LIMIT));
        Set<LogStream> streams = streams(req.query().first("streams").orElse(""));
        List<VmLog> logs = sel.logs().apply(store);
        List<LogEntry> all = new ArrayList<>();
        for (VmLog l : logs) all.addAll(l.entries(after, streams, Integer.MAX_VALUE));
        all.sort(Comparator.comparingLong(LogEntry::seq));
        if (all.size() > limit) all = all.subList(all.size() - limit, all.size());
        ObjectNode root = JSON.createObjectNode();
        ArrayNode vms = root.putArray("vms");
        for (VmLog l : logs) vms.add(describe(l));
        ArrayNode entries = root.putArray("entries");
        for (LogEntry e : all) entries.add(entry(e));
        root.put("last_seq", all.isEmpty() ? after : all.getLast().seq());
        json(res, root);
    }

    void stream(Selection sel, ServerRequest req, ServerResponse res) throws IOException {
        long after = req.headers().first(HeaderNames.create("Last-Event-ID")).map(LogEndpoints::parseLong)
                .orElse(longParam(req, "after", 0));
        Set<LogStream> streams = streams(req.query().first("streams").orElse(""));
        try (SseStream sse = new SseStream(res)) {
            LogFeed.run(store, sel.logs(), e -> sel.belongs().test(e) && (streams.isEmpty() || streams.contains(e.stream())),
                    after, sse, (out, batch) -> {
                        for (LogEntry e : batch) {
                            if (!streams.isEmpty() && !streams.contains(e.stream())) continue;
                            out.event("log", Long.toString(e.seq()), JSON.writeValueAsString(entry(e)));
                        }
                    }, sel.over());
            sse.event("end", null, "{}");
        }
    }

    /** The console's panel: batches of HTML lines. */
    void htmlStream(Selection sel, boolean withVm, ServerResponse res) throws IOException {
        try (SseStream sse = new SseStream(res)) {
            LogFeed.run(store, sel.logs(), sel.belongs(), 0, sse,
                    (out, batch) -> out.event("lines", null, Fragments.logLines(batch, withVm)), sel.over());
        }
    }

    static ObjectNode entry(LogEntry e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("seq", e.seq());
        o.put("time", e.time().toString());
        o.put("vm", e.vm());
        o.put("stream", e.stream().wire());
        o.put("text", e.text());
        return o;
    }

    private static ObjectNode describe(VmLog l) {
        ObjectNode o = JSON.createObjectNode();
        o.put("vm", l.vm());
        o.put("program", l.program().value());
        o.put("started_at", l.startedAt().toString());
        if (l.endedAt() != null) o.put("ended_at", l.endedAt().toString());
        else o.putNull("ended_at");
        o.put("bytes", l.bytes());
        o.put("dropped_lines", l.dropped());
        return o;
    }

    private static Set<LogStream> streams(String csv) {
        Set<LogStream> s = EnumSet.noneOf(LogStream.class);
        for (String part : csv.split(",")) if (!part.isBlank()) s.add(LogStream.fromWire(part.strip()));
        return s;
    }

    private static long longParam(ServerRequest req, String name, long dflt) {
        return req.query().first(name).map(LogEndpoints::parseLong).orElse(dflt);
    }

    private static long parseLong(String s) {
        try {
            return Math.max(0, Long.parseLong(s.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a number");
        }
    }

    private static void json(ServerResponse res, ObjectNode root) throws IOException {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }
}
