package dev.kiln.node.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.nio.file.Files;

/**
 * {@code /console/runtimes/<item hash>/sbom}: the software bill of materials of a runtime built on
 * this machine, as the builder recorded it in the image's {@code manifest.json} (docs/runtimes.md):
 * every shipped package with its version. Official runtimes pulled from the catalogue carry no
 * manifest here, so they have none.
 */
final class RuntimeSbom {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "/console/runtimes/";
    private static final String SUFFIX = "/sbom";

    private final LocalRuntimeList runtimes;

    RuntimeSbom(LocalRuntimeList runtimes) {
        this.runtimes = runtimes;
    }

    static String path(ItemHash runtime) {
        return PREFIX + runtime.value() + SUFFIX;
    }

    static boolean matches(String path) {
        return path.startsWith(PREFIX) && path.endsWith(SUFFIX) && path.length() > PREFIX.length() + SUFFIX.length();
    }

    void serve(String path, ServerResponse res) throws IOException {
        String ref = path.substring(PREFIX.length(), path.length() - SUFFIX.length());
        ItemHash hash;
        try {
            hash = ItemHash.parse(ref);
        } catch (RuntimeException e) {
            WebConsole.error(res, 400, "bad_request", "'" + ref + "' is not an item hash: the runtimes table links each SBOM");
            return;
        }
        LocalRuntimeList.Local local = runtimes.list().stream().filter(l -> l.entry().itemHash().equals(hash))
                .findFirst().orElse(null);
        if (local == null || local.manifest() == null || !Files.isRegularFile(local.manifest())) {
            WebConsole.error(res, 404, "not_found", "no SBOM for runtime " + hash.shortForm() + ": only runtimes built on this"
                    + " machine have one (kiln runtime build)");
            return;
        }
        JsonNode manifest;
        try {
            manifest = JSON.readTree(local.manifest().toFile());
        } catch (IOException e) {
            WebConsole.error(res, 500, "manifest_unreadable", "the manifest of runtime " + hash.shortForm()
                    + " cannot be read (" + e.getMessage() + "): build it again with kiln runtime build");
            return;
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("runtime", local.entry().name());
        out.put("item_hash", hash.value());
        out.set("spec_hash", manifest.path("spec_hash"));
        out.set("image", manifest.path("image"));
        out.set("sbom", manifest.path("sbom"));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(out));
    }
}
