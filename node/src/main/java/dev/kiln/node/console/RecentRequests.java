package dev.kiln.node.console;

import static dev.kiln.node.console.Html.href;
import static dev.kiln.node.console.Html.text;

import dev.kiln.core.hash.ItemHash;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * The "recent requests" table of a program's page and a VM's page, from the node's own series
 * ({@link NodeSeries}, bounded). Live: the table body polls {@code /console/requests?...} with
 * htmx, which answers the rows again; a failed request links to the page's logs.
 */
final class RecentRequests {
    static final int SHOWN = 20;
    private static final String PATH = "/console/requests";

    private RecentRequests() {
    }

    /** The table, filled, polling for its rows every few seconds. */
    static String table(NodeSeries series, ItemHash program, String vm) {
        String query = program != null ? "program=" + program.value() : "vm=" + Html.urlPart(vm);
        return """
                <section><h2>Recent requests <small class="live">live</small></h2><div class="scroll"><table id="requests">
                <thead><tr><th>when</th><th>request</th><th>VM</th><th>status</th><th>time</th></tr></thead>
                <tbody hx-get="%s" hx-trigger="every 3s" hx-swap="innerHTML">%s</tbody></table></div></section>
                """.formatted(Html.href(PATH + "?" + query), rows(series, filter(program, vm)));
    }

    /** The rows alone, for the poll; exactly one of the two selectors. */
    static String rows(NodeSeries series, String program, String vm) {
        if ((program == null) == (vm == null)) throw new IllegalArgumentException("name one of ?program=<item hash> or ?vm=<id>");
        ItemHash hash = null;
        if (program != null) {
            try {
                hash = ItemHash.parse(program);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("?program= needs an item hash: " + e.getMessage());
            }
        }
        return rows(series, filter(hash, vm));
    }

    private static Predicate<NodeSeries.Request> filter(ItemHash program, String vm) {
        return program != null ? r -> r.program().equals(program) : r -> vm.equals(r.vm());
    }

    private static String rows(NodeSeries series, Predicate<NodeSeries.Request> filter) {
        List<NodeSeries.Request> recent = series.recent(filter, SHOWN);
        if (recent.isEmpty()) return "<tr><td colspan=\"5\" class=\"empty\">none since the node started</td></tr>";
        StringBuilder b = new StringBuilder();
        for (NodeSeries.Request r : recent) {
            String status = r.status() == 0 ? "cut short" : Integer.toString(r.status());
            boolean error = r.status() == 0 || r.status() >= 400;
            b.append("<tr").append(r.failed() ? " class=\"failed\"" : "").append("><td>").append(ProgramPage.WHEN.format(r.at()))
                    .append("</td><td><code>").append(text(r.method())).append(' ').append(text(r.path())).append("</code></td><td>")
                    .append(r.vm() == null ? "—" : "<a href=\"" + href("/console/vms/" + Html.urlPart(r.vm())) + "\">"
                            + text(r.vm()) + "</a>")
                    .append("</td><td>").append(error ? "<a href=\"#logs\" title=\"see the logs\">" + status + "</a>" : status)
                    .append("</td><td class=\"num\">").append(String.format(Locale.ROOT, "%.1f ms", r.millis())).append("</td></tr>");
        }
        return b.toString();
    }
}
