package dev.kiln.node.console;

import static dev.kiln.node.console.Html.href;
import static dev.kiln.node.console.Html.text;

import dev.kiln.node.pool.ExecutionView;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.store.records.RecordsException;
import java.util.Optional;

/** {@code /console/vms/<id>}: one VM (live from the pool, else from the records) and its log. */
final class VmPage {
    private final ConsoleContext c;

    VmPage(ConsoleContext c) {
        this.c = c;
    }

    /** Empty if the node knows no VM of that id. */
    Optional<String> render(String id) {
        Optional<ExecutionView> live = c.pool().executions().stream().filter(v -> v.id().equals(id)).findFirst();
        Optional<ExecutionRecord> record = record(id);
        var log = c.logs().vm(id);
        if (live.isEmpty() && record.isEmpty() && log.isEmpty()) return Optional.empty();
        String program = live.map(v -> v.program().value()).or(() -> record.map(r -> r.program().value()))
                .orElseGet(() -> log.get().program().value());
        StringBuilder facts = new StringBuilder();
        fact(facts, "program", "<a href=\"" + href("/console/programs/" + program) + "\"><code>" + text(program) + "</code></a>");
        if (live.isPresent()) {
            ExecutionView v = live.get();
            fact(facts, "state", Layout.badge(v.state().name()) + " <small class=\"live\">now</small>");
            fact(facts, "VMM", text(v.vmId()) + ", pid " + v.pid() + ", " + text(v.accelerator()) + ", " + v.memoryMiB() + " MiB");
            fact(facts, "uptime", text(Layout.duration(v.uptime())));
            fact(facts, "requests", v.requestsServed() + " served, " + v.inFlight() + " in flight");
            if (v.boot() != null) {
                var p = v.bootBreakdown();
                fact(facts, "cold start", text(Layout.seconds(v.boot().toNanos() / 1e9)) + (p == null ? "" : " <small>(resolve "
                        + Layout.seconds(p.resolve().toNanos() / 1e9) + ", VM boot " + Layout.seconds(p.vmBoot().toNanos() / 1e9)
                        + ", configure " + Layout.seconds(p.configure().toNanos() / 1e9) + ")</small>"));
            }
        } else if (record.isPresent()) {
            ExecutionRecord r = record.get();
            fact(facts, "state", Layout.badge(r.state()));
            fact(facts, "started", ProgramPage.WHEN.format(r.startedAt()));
            if (r.boot() != null) fact(facts, "cold start", text(Layout.seconds(r.boot().toNanos() / 1e9)));
            fact(facts, "requests", Long.toString(r.requests()));
            if (r.reason() != null) fact(facts, "why it ended", text(r.reason()));
        }
        log.ifPresent(l -> fact(facts, "log", l.dropped() == 0 ? "complete" : l.dropped() + " oldest lines dropped (bounded)"));
        return Optional.of(Layout.page("VM " + id, """
                <h1>%s <small>VM</small></h1>
                <dl class="facts">%s</dl>
                %s
                %s
                """.formatted(text(id), facts, RecentRequests.table(c.series(), null, id), LogView.html("/console/logs/vms/" + Html.urlPart(id), "/logs/vms/" + Html.urlPart(id)))));
    }

    private static void fact(StringBuilder b, String name, String html) {
        b.append("<dt>").append(text(name)).append("</dt><dd>").append(html).append("</dd>");
    }

    private Optional<ExecutionRecord> record(String id) {
        try {
            return c.records().executions().list(null, 1000).stream().filter(r -> r.id().equals(id)).findFirst();
        } catch (RecordsException e) {
            return Optional.empty();
        }
    }
}
