package dev.kiln.node.console;

import static dev.kiln.node.console.Html.href;
import static dev.kiln.node.console.Html.text;

import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.store.records.RecordsException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** {@code /console/programs/<hash>}: one program, its VMs, its recent requests and errors, its logs (live). */
final class ProgramPage {
    static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private final ConsoleContext c;

    ProgramPage(ConsoleContext c) {
        this.c = c;
    }

    String render(ProgramSummary p) {
        String running = c.pool().running(p.hash())
                .map(e -> "<a href=\"" + href("/console/vms/" + Html.urlPart(e.id())) + "\">" + text(e.id()) + "</a> "
                        + Layout.badge(e.vm().state().name()))
                .orElse("none (the next request boots one)");
        return Layout.page(p.label(), """
                <h1>%s <small>program</small></h1>
                <dl class="facts">
                <dt>item hash</dt><dd><code>%s</code></dd>
                <dt>owner</dt><dd><code>%s</code></dd>
                <dt>runtime</dt><dd><code>%s</code></dd>
                <dt>interface</dt><dd>%s <code>%s</code> (%s)</dd>
                <dt>resources</dt><dd>%d MiB, %d vCPU, %d s</dd>
                <dt>URL</dt><dd><a href="%s">/vm/%s/</a></dd>
                <dt>running VM</dt><dd>%s</dd>
                </dl>
                <section><h2>Cold starts</h2><div class="scroll"><table id="cold-starts">
                <thead><tr><th>when</th><th>VM</th><th>total and phases</th></tr></thead><tbody>%s</tbody></table></div></section>
                %s                <section><h2>VMs</h2><div class="scroll"><table id="vms">
                <thead><tr><th>VM</th><th>state</th><th>started</th><th>boot</th><th>requests</th><th>why it ended</th></tr></thead><tbody>%s</tbody></table></div></section>
                %s
                <details><summary>PROGRAM message</summary><pre class="json">%s</pre></details>
                """.formatted(text(p.label()), text(p.hash().value()), text(p.owner()), text(p.runtime()),
                text(p.codeInterface()), text(p.entrypoint()), text(p.encoding()), p.memoryMiB(), p.vcpus(), p.seconds(),
                href("/vm/" + p.hash().value() + "/"), text(p.hash().shortForm()), running, coldStarts(p), RecentRequests.table(c.series(), p.hash(), null),
                vms(p), LogView.html("/console/logs/programs/" + p.hash().value(), "/logs/programs/" + p.hash().value()),
                text(pretty(p.messageJson()))));
    }

    private String coldStarts(ProgramSummary p) {
        List<NodeSeries.ColdStart> all = c.series().coldStartsOf(p.hash());
        if (all.isEmpty()) return "<tr><td colspan=\"3\" class=\"empty\">none since the node started</td></tr>";
        StringBuilder b = new StringBuilder();
        for (NodeSeries.ColdStart s : all.reversed().subList(0, Math.min(10, all.size()))) {
            b.append("<tr><td>").append(WHEN.format(s.at())).append("</td><td>").append(text(s.vm())).append("</td><td>")
                    .append(OverviewPage.coldStart(s)).append("</td></tr>");
        }
        return b.toString();
    }

    private String vms(ProgramSummary p) {
        List<ExecutionRecord> rows;
        try {
            rows = c.records().executions().list(p.hash(), 20);
        } catch (RecordsException e) {
            return "<tr><td colspan=\"6\" class=\"empty\">cannot read the records: " + text(e.getMessage()) + "</td></tr>";
        }
        if (rows.isEmpty()) return "<tr><td colspan=\"6\" class=\"empty\">no VM yet</td></tr>";
        StringBuilder b = new StringBuilder();
        for (ExecutionRecord r : rows) {
            b.append("<tr><td><a href=\"").append(href("/console/vms/" + Html.urlPart(r.id()))).append("\">").append(text(r.id()))
                    .append("</a></td><td>").append(Layout.badge(r.state())).append("</td><td>").append(WHEN.format(r.startedAt()))
                    .append("</td><td>").append(r.boot() == null ? "—" : text(Layout.seconds(r.boot().toNanos() / 1e9)))
                    .append("</td><td class=\"num\">").append(r.requests()).append("</td><td>").append(text(r.reason()))
                    .append("</td></tr>");
        }
        return b.toString();
    }

    private static String pretty(String json) {
        try {
            var m = new com.fasterxml.jackson.databind.ObjectMapper();
            return m.writerWithDefaultPrettyPrinter().writeValueAsString(m.readTree(json));
        } catch (java.io.IOException e) {
            return json;
        }
    }
}
