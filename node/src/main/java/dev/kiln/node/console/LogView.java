package dev.kiln.node.console;

/** The live log panel of the program and VM pages: lines arrive over SSE and are appended. */
final class LogView {
    private LogView() {
    }

    /** @param stream the console's SSE endpoint for these lines; {@code json} the same log as JSON */
    static String html(String stream, String json) {
        return """
                <section class="logs" id="logs"><h2>Logs <small class="live">live</small></h2>
                <p class="log-tools"><label>show <select class="log-streams" aria-label="Which lines">
                <option value="">all</option><option value="program">program output</option>
                <option value="stdout">stdout</option><option value="stderr">stderr</option>
                <option value="system">kernel, init and node</option></select></label>
                <label><input type="checkbox" class="log-follow" checked> follow</label>
                · <a href="%s">JSON</a> · <code>kiln logs</code> on the command line</p>
                <pre class="log" hx-ext="sse" sse-connect="%s" sse-swap="lines" hx-swap="beforeend"></pre>
                </section>
                """.formatted(Html.href(json), Html.href(stream));
    }
}
