package dev.kiln.node.console;

import static dev.kiln.node.console.Html.href;
import static dev.kiln.node.console.Html.text;

import dev.kiln.core.catalogue.RuntimeCatalogue;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code /}: the node, what runs (live), the charts, the programs and the runtimes. */
final class OverviewPage {
    private final ConsoleContext c;

    OverviewPage(ConsoleContext c) {
        this.c = c;
    }

    String render(List<ProgramSummary> programs) {
        Map<ItemHash, String> names = new HashMap<>();
        for (ProgramSummary p : programs) names.put(p.hash(), p.label());
        return Layout.page("Overview", """
                <div hx-ext="sse" sse-connect="/console/events">
                <section class="node">
                <h1>Kiln node <small>%s</small></h1>
                <p class="meta">accelerator <strong>%s</strong> · up %s</p>
                <div class="cards" id="counters" sse-swap="counters">%s</div>
                </section>
                <section>
                <h2>Executions <small class="live">live</small></h2>
                <div class="scroll"><table id="executions">
                <thead><tr><th>VM</th><th>program</th><th>state</th><th>uptime</th><th>requests</th><th>in flight</th><th>cold start</th><th>memory</th></tr></thead>
                <tbody sse-swap="executions">%s</tbody>
                </table></div>
                </section>
                </div>
                <section class="charts">
                <h2>Cold starts and requests</h2>
                <div class="chart" id="chart-cold" data-src="/console/series.json" data-kind="cold" role="img" aria-label="Cold-start time over time"></div>
                <div class="chart" id="chart-latency" data-src="/console/series.json" data-kind="latency" role="img" aria-label="Request latency over time"></div>
                </section>
                <section>
                <h2>Programs</h2>
                <div class="scroll"><table id="programs">
                <thead><tr><th>name</th><th>item hash</th><th>runtime</th><th>interface</th><th>state</th><th>requests</th><th>last cold start</th></tr></thead>
                <tbody>%s</tbody></table></div>
                </section>
                <section>
                <h2>Runtimes</h2>
                <div class="scroll"><table id="runtimes">
                <thead><tr><th>name</th><th>kind</th><th>status</th><th>size</th><th>item hash</th><th>origin</th><th>SBOM</th></tr></thead>
                <tbody>%s</tbody></table></div>
                </section>
                """.formatted(text(c.version()), text(c.accelerator()),
                text(Layout.duration(Duration.between(c.startedAt(), Instant.now()))), Fragments.counters(c),
                Fragments.executionRows(c.pool().executions(), h -> names.getOrDefault(h, h.shortForm())),
                programRows(programs), runtimeRows()));
    }

    private String programRows(List<ProgramSummary> programs) {
        if (programs.isEmpty()) return "<tr><td colspan=\"7\" class=\"empty\">No program yet: <code>kiln program create DIR</code></td></tr>";
        StringBuilder b = new StringBuilder();
        for (ProgramSummary p : programs) {
            String state = c.pool().running(p.hash()).map(e -> e.vm().state().name()).orElse("stopped");
            var colds = c.series().coldStartsOf(p.hash());
            String last = colds.isEmpty() ? "—" : coldStart(colds.getLast());
            b.append("<tr><td><a href=\"").append(href("/console/programs/" + p.hash().value())).append("\">")
                    .append(text(p.label())).append("</a></td><td><code title=\"").append(Html.attr(p.hash().value()))
                    .append("\">").append(text(p.hash().shortForm())).append("</code></td><td><code>")
                    .append(text(p.runtime().length() > 12 ? p.runtime().substring(0, 12) : p.runtime())).append("</code></td><td>")
                    .append(text(p.codeInterface())).append("</td><td>").append(Layout.badge(state)).append("</td><td class=\"num\">")
                    .append(c.series().requestsOf(p.hash())).append("</td><td>").append(last).append("</td></tr>");
        }
        return b.toString();
    }

    static String coldStart(NodeSeries.ColdStart s) {
        return text(Layout.seconds(s.totalSeconds())) + " <small>(resolve " + text(Layout.seconds(s.resolveSeconds()))
                + ", VM boot " + text(Layout.seconds(s.vmBootSeconds())) + ", configure "
                + text(Layout.seconds(s.configureSeconds())) + ")</small>";
    }

    private String runtimeRows() {
        List<RuntimeEntry> entries;
        Map<String, Long> sizes = new HashMap<>();
        java.util.Set<String> withSbom = new java.util.HashSet<>();
        try {
            List<RuntimeEntry> local = new ArrayList<>();
            for (LocalRuntimeList.Local l : c.localRuntimes().list()) {
                local.add(l.entry());
                if (l.sizeBytes() != null) sizes.put(l.entry().itemHash().value(), l.sizeBytes());
                if (l.manifest() != null) withSbom.add(l.entry().itemHash().value());
            }
            entries = RuntimeCatalogue.official().withLocal(local).all();
        } catch (IOException | RuntimeException e) {
            return "<tr><td colspan=\"7\" class=\"empty\">cannot list the runtimes: " + text(e.getMessage()) + "</td></tr>";
        }
        StringBuilder b = new StringBuilder();
        for (RuntimeEntry e : entries) {
            Long size = sizes.get(e.itemHash().value());
            b.append("<tr><td>").append(text(e.name())).append(e.isDefault() ? " <small>default</small>" : "")
                    .append("</td><td>").append(text(e.kind().id())).append("</td><td>")
                    .append(Layout.badge(e.isDeprecated() ? "deprecated" : e.status().id())).append("</td><td class=\"num\">")
                    .append(size == null ? "—" : text(mib(size))).append("</td><td><code title=\"")
                    .append(Html.attr(e.itemHash().value())).append("\">").append(text(e.itemHash().shortForm()))
                    .append("</code></td><td>").append(text(e.origin().id())).append("</td><td>")
                    .append(withSbom.contains(e.itemHash().value()) ? "<a href=\"" + href(RuntimeSbom.path(e.itemHash())) + "\">SBOM</a>"
                            : "<small title=\"not built on this machine\">—</small>")
                    .append("</td></tr>");
        }
        return b.toString();
    }

    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
