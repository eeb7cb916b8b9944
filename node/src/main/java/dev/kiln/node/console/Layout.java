package dev.kiln.node.console;

import static dev.kiln.node.console.Html.attr;
import static dev.kiln.node.console.Html.text;

/** The frame every console page shares: head, header with the search box, footer. */
final class Layout {
    private Layout() {
    }

    static String page(String title, String body) {
        return """
                <!doctype html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <meta name="color-scheme" content="light dark">
                <title>%s · Kiln node</title>
                <link rel="icon" href="data:,">
                <link rel="stylesheet" href="%s">
                <link rel="stylesheet" href="%s">
                <script src="%s" defer></script>
                <script src="%s" defer></script>
                <script src="%s" defer></script>
                <script src="%s" defer></script>
                </head>
                <body>
                <header>
                <a class="brand" href="/">Kiln node</a>
                <form class="search" action="/console/search" method="get" role="search">
                <input name="q" type="search" placeholder="hash prefix, name or owner" aria-label="Find a program, VM or runtime">
                </form>
                </header>
                <main>
                %s
                </main>
                <footer>Console and logs are for this node's operator (loopback only). JSON: <a href="/about/executions/list">/about/executions/list</a> · <a href="/metrics">/metrics</a> · <a href="/logs">/logs</a></footer>
                </body>
                </html>
                """.formatted(text(title), Assets.CSS_UPLOT, Assets.CSS_CONSOLE, Assets.JS_HTMX, Assets.JS_SSE,
                Assets.JS_UPLOT, Assets.JS_CONSOLE, body);
    }

    /** A state as a coloured badge (the state names are the pool's, lower case). */
    static String badge(String state) {
        String s = state.toLowerCase(java.util.Locale.ROOT);
        return "<span class=\"badge s-" + attr(s) + "\">" + text(s) + "</span>";
    }

    static String seconds(double s) {
        return s < 10 ? String.format(java.util.Locale.ROOT, "%.2f s", s) : String.format(java.util.Locale.ROOT, "%.1f s", s);
    }

    static String duration(java.time.Duration d) {
        long s = d.toSeconds();
        if (s < 60) return s + " s";
        if (s < 3600) return s / 60 + " min " + s % 60 + " s";
        return s / 3600 + " h " + s % 3600 / 60 + " min";
    }
}
