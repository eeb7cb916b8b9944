package dev.kiln.node.console;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's static files, served from the classpath: the third-party libraries from their
 * WebJars (htmx and its SSE extension for live updates, uPlot for charts; docs/console.md says
 * why these), the console's own CSS and script from this package's resources. Versioned paths,
 * so they are cached for a year.
 */
final class Assets {
    static final String PREFIX = "/console/assets/";
    private static final String HTMX = "htmx.org/2.0.4/dist/htmx.min.js";
    private static final String SSE = "htmx-ext-sse/2.2.2/sse.js";
    private static final String UPLOT_JS = "uplot/1.6.30/dist/uPlot.iife.min.js";
    private static final String UPLOT_CSS = "uplot/1.6.30/dist/uPlot.min.css";
    private static final String OWN_VERSION = "1";
    static final String JS_HTMX = PREFIX + "webjars/" + HTMX;
    static final String JS_SSE = PREFIX + "webjars/" + SSE;
    static final String JS_UPLOT = PREFIX + "webjars/" + UPLOT_JS;
    static final String CSS_UPLOT = PREFIX + "webjars/" + UPLOT_CSS;
    static final String JS_CONSOLE = PREFIX + OWN_VERSION + "/console.js";
    static final String CSS_CONSOLE = PREFIX + OWN_VERSION + "/console.css";

    private static final Map<String, String> FILES = Map.of(
            JS_HTMX, "META-INF/resources/webjars/" + HTMX,
            JS_SSE, "META-INF/resources/webjars/" + SSE,
            JS_UPLOT, "META-INF/resources/webjars/" + UPLOT_JS,
            CSS_UPLOT, "META-INF/resources/webjars/" + UPLOT_CSS,
            JS_CONSOLE, "dev/kiln/node/console/console.js",
            CSS_CONSOLE, "dev/kiln/node/console/console.css");
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

    /** Serves the asset at {@code path}; false if there is none. */
    boolean serve(String path, ServerResponse res) {
        String resource = FILES.get(path);
        if (resource == null) return false;
        byte[] body = cache.computeIfAbsent(resource, Assets::load);
        if (body.length == 0) return false;
        res.header(HeaderNames.CONTENT_TYPE, path.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
        res.header(HeaderNames.CACHE_CONTROL, "public, max-age=31536000, immutable");
        res.send(body);
        return true;
    }

    private static byte[] load(String resource) {
        try (InputStream in = Assets.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
