package dev.kiln.node.console;

import static dev.kiln.node.console.Html.href;
import static dev.kiln.node.console.Html.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.logs.VmLog;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.store.records.RecordsException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** The console's HTML pages, its live events and the charts' data. */
final class ConsolePages {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long HEARTBEAT_MILLIS = 15_000;

    private final ConsoleContext c;
    private final ExecutionWatcher watcher;
    private final BooleanSupplier closing;

    ConsolePages(ConsoleContext c, ExecutionWatcher watcher, BooleanSupplier closing) {
        this.c = c;
        this.watcher = watcher;
        this.closing = closing;
    }

    void route(String path, ServerRequest req, ServerResponse res) throws IOException {
        switch (path) {
            case "/" -> WebConsole.html(res, 200, new OverviewPage(c).render(programs()));
            case "/console", "/console/" -> {
                res.status(303);
                res.header(HeaderNames.LOCATION, "/");
                res.send();
            }
            case "/console/events" -> events(res);
            case "/console/series.json" -> series(res);
            case "/console/search" -> search(req.query().first("q").orElse("").strip(), res);
            case "/console/requests" -> WebConsole.html(res, 200, RecentRequests.rows(c.series(),
                    req.query().first("program").orElse(null), req.query().first("vm").orElse(null)));
            default -> {
                if (path.startsWith("/console/programs/")) program(path.substring("/console/programs/".length()), res);
                else if (RuntimeSbom.matches(path)) new RuntimeSbom(c.localRuntimes()).serve(path, res);
                else if (path.startsWith("/console/vms/")) vm(java.net.URLDecoder.decode(path.substring("/console/vms/".length()),
                        java.nio.charset.StandardCharsets.UTF_8), res);
                else notFound(res, "There is no console page at " + path + ".");
            }
        }
    }

    private void program(String ref, ServerResponse res) {
        Optional<ProgramSummary> p = Optional.empty();
        try {
            ItemHash hash = ItemHash.parse(ref);
            p = c.records().programs().find(hash).map(ProgramSummary::of);
        } catch (RecordsException e) {
            throw new IllegalStateException("cannot read the program records: " + e.getMessage(), e);
        } catch (RuntimeException notAHash) {
            search(ref, res);
            return;
        }
        if (p.isEmpty()) notFound(res, "No program " + ref + " is recorded on this node.");
        else WebConsole.html(res, 200, new ProgramPage(c).render(p.get()));
    }

    private void vm(String id, ServerResponse res) {
        Optional<String> page = new VmPage(c).render(id);
        if (page.isEmpty()) notFound(res, "This node knows no VM " + id + " (VM logs and records of long ago are not kept).");
        else WebConsole.html(res, 200, page.get());
    }

    /** Finds programs by hash prefix, name or owner, VMs by id, runtimes by name; one program found: go there. */
    private void search(String q, ServerResponse res) {
        if (q.isEmpty()) {
            res.status(303);
            res.header(HeaderNames.LOCATION, "/");
            res.send();
            return;
        }
        List<ProgramSummary> found = programs().stream().filter(p -> p.matches(q)).toList();
        List<VmLog> vmLogs = c.logs().all().stream().filter(l -> l.vm().startsWith(q)).toList();
        List<String> vms = vmLogs.stream().map(VmLog::vm).distinct().toList();
        boolean onlyItsVms = found.size() == 1 && vmLogs.stream().allMatch(l -> l.program().equals(found.getFirst().hash()));
        if (found.size() == 1 && onlyItsVms) {
            res.status(303);
            res.header(HeaderNames.LOCATION, "/console/programs/" + found.getFirst().hash().value());
            res.send();
            return;
        }
        StringBuilder b = new StringBuilder("<h1>Search <small>").append(text(q)).append("</small></h1><h2>Programs</h2><ul class=\"found\">");
        for (ProgramSummary p : found) {
            b.append("<li><a href=\"").append(href("/console/programs/" + p.hash().value())).append("\">").append(text(p.label()))
                    .append("</a> <code>").append(text(p.hash().shortForm())).append("</code> owner <code>")
                    .append(text(p.owner())).append("</code></li>");
        }
        if (found.isEmpty()) b.append("<li class=\"empty\">no program matches</li>");
        b.append("</ul><h2>VMs</h2><ul class=\"found\">");
        for (String v : vms) {
            b.append("<li><a href=\"").append(href("/console/vms/" + Html.urlPart(v))).append("\">").append(text(v)).append("</a></li>");
        }
        if (vms.isEmpty()) b.append("<li class=\"empty\">no VM matches</li>");
        b.append("</ul>");
        WebConsole.html(res, 200, Layout.page("Search", b.toString()));
    }

    /** SSE: the executions table and the counters, again each time they change. */
    private void events(ServerResponse res) throws IOException {
        Semaphore changed = new Semaphore(0);
        Runnable listener = changed::release;
        watcher.onChange(listener);
        try (SseStream sse = new SseStream(res)) {
            long last = System.currentTimeMillis();
            sendState(sse);
            while (!closing.getAsBoolean()) {
                if (changed.tryAcquire(1, TimeUnit.SECONDS)) {
                    changed.drainPermits();
                    sendState(sse);
                    last = System.currentTimeMillis();
                } else if (System.currentTimeMillis() - last > HEARTBEAT_MILLIS) {
                    sse.heartbeat();
                    last = System.currentTimeMillis();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            watcher.removeListener(listener);
        }
    }

    private void sendState(SseStream sse) throws IOException {
        Map<ItemHash, String> names = new HashMap<>();
        for (ProgramSummary p : programs()) names.put(p.hash(), p.label());
        sse.event("executions", null, Fragments.executionRows(c.pool().executions(), h -> names.getOrDefault(h, h.shortForm())));
        sse.event("counters", null, Fragments.counters(c));
    }

    /** The charts' data, in uPlot's column form (times in epoch seconds). */
    private void series(ServerResponse res) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode cold = root.putObject("cold");
        ArrayNode t = cold.putArray("t");
        ArrayNode total = cold.putArray("total");
        ArrayNode boot = cold.putArray("vm_boot");
        ArrayNode configure = cold.putArray("configure");
        for (NodeSeries.ColdStart s : c.series().coldStarts()) {
            t.add(s.at().toEpochMilli() / 1000.0);
            total.add(s.totalSeconds());
            boot.add(s.vmBootSeconds());
            configure.add(s.configureSeconds());
        }
        ObjectNode latency = root.putObject("latency");
        ArrayNode lt = latency.putArray("t");
        ArrayNode ms = latency.putArray("ms");
        for (NodeSeries.Request r : c.series().requests()) {
            lt.add(r.at().toEpochMilli() / 1000.0);
            ms.add(Math.round(r.millis() * 100) / 100.0);
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(JSON.writeValueAsBytes(root));
    }

    private List<ProgramSummary> programs() {
        try {
            return c.records().programs().list().stream().map((ProgramRecord r) -> ProgramSummary.of(r)).toList();
        } catch (RecordsException e) {
            throw new IllegalStateException("cannot read the program records: " + e.getMessage(), e);
        }
    }

    private static void notFound(ServerResponse res, String message) {
        WebConsole.html(res, 404, Layout.page("Not found", "<h1>Not found</h1><p>" + text(message)
                + "</p><p><a href=\"/\">Back to the overview</a></p>"));
    }
}
