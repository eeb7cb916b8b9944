package dev.kiln.node.console;

import static dev.kiln.node.console.Html.href;
import static dev.kiln.node.console.Html.text;

import dev.kiln.node.logs.LogEntry;
import dev.kiln.node.pool.ExecutionView;
import dev.kiln.vm.VmState;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** Pieces of pages that the live updates send again: the executions table, the node's counters, log lines. */
final class Fragments {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    private Fragments() {
    }

    /** The rows of the executions table; {@code names} gives a program's label. */
    static String executionRows(List<ExecutionView> views, Function<dev.kiln.core.hash.ItemHash, String> names) {
        if (views.isEmpty()) {
            return "<tr><td colspan=\"8\" class=\"empty\">No VM is running. The first request to a program boots one.</td></tr>";
        }
        StringBuilder b = new StringBuilder();
        for (ExecutionView v : views) {
            b.append("<tr data-vm=\"").append(Html.attr(v.id())).append("\" data-state=\"")
                    .append(Html.attr(v.state().name().toLowerCase(Locale.ROOT))).append("\">")
                    .append("<td><a href=\"").append(href("/console/vms/" + Html.urlPart(v.id()))).append("\">")
                    .append(text(v.id())).append("</a></td>")
                    .append("<td><a href=\"").append(href("/console/programs/" + v.program().value())).append("\">")
                    .append(text(names.apply(v.program()))).append("</a></td>")
                    .append("<td>").append(Layout.badge(v.state().name())).append("</td>")
                    .append("<td>").append(text(Layout.duration(v.uptime()))).append("</td>")
                    .append("<td class=\"num\">").append(v.requestsServed()).append("</td>")
                    .append("<td class=\"num\">").append(v.inFlight()).append("</td>")
                    .append("<td>").append(v.boot() == null ? "booting…" : text(Layout.seconds(v.boot().toNanos() / 1e9)))
                    .append(phases(v)).append("</td>")
                    .append("<td class=\"num\">").append(v.memoryMiB()).append(" MiB</td></tr>");
        }
        return b.toString();
    }

    private static String phases(ExecutionView v) {
        if (v.bootBreakdown() == null) return "";
        var p = v.bootBreakdown();
        return " <small>(resolve " + Layout.seconds(p.resolve().toNanos() / 1e9) + ", VM boot "
                + Layout.seconds(p.vmBoot().toNanos() / 1e9) + ", configure " + Layout.seconds(p.configure().toNanos() / 1e9)
                + ")</small>";
    }

    /** The node's counters: memory, VMs by state. */
    static String counters(ConsoleContext c) {
        long reserved = c.pool().memoryReservedMiB();
        long budget = c.pool().memoryBudgetMiB();
        int percent = budget == 0 ? 0 : (int) Math.min(100, reserved * 100 / budget);
        StringBuilder states = new StringBuilder();
        Map<VmState, Long> by = c.pool().vmsByState();
        long total = 0;
        states.append(by.isEmpty() ? "" : " · ");
        for (var e : by.entrySet()) {
            total += e.getValue();
            states.append(e.getValue()).append(' ').append(Layout.badge(e.getKey().name())).append(' ');
        }
        return """
                <div class="card"><h3>Memory</h3><p><strong>%d</strong> of %d MiB reserved</p>
                <div class="bar" role="meter" aria-valuemin="0" aria-valuemax="%d" aria-valuenow="%d"><span style="width:%d%%"></span></div></div>
                <div class="card"><h3>VMs</h3><p><strong id="vm-count">%d</strong> running%s</p></div>
                <div class="card"><h3>Requests</h3><p><strong>%d</strong> since the node started</p></div>
                """.formatted(reserved, budget, budget, reserved, percent, total, states, c.series().requestCount());
    }

    /** Log entries as lines of the log view (each in a span classed by its stream). */
    static String logLines(List<LogEntry> entries, boolean withVm) {
        StringBuilder b = new StringBuilder();
        for (LogEntry e : entries) {
            b.append("<span class=\"l l-").append(e.stream().wire()).append("\" data-seq=\"").append(e.seq()).append("\">")
                    .append("<time>").append(TIME.format(e.time())).append("</time> ");
            if (withVm) b.append("<i>").append(text(e.vm())).append("</i> ");
            b.append("<b>").append(e.stream().wire()).append("</b> ").append(text(e.text())).append("</span>\n");
        }
        return b.toString();
    }
}
