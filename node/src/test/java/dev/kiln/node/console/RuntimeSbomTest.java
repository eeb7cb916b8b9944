package dev.kiln.node.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.catalogue.RuntimeKind;
import dev.kiln.core.catalogue.RuntimeOrigin;
import dev.kiln.core.catalogue.RuntimeStatus;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtimes table links the SBOM of each runtime built on this machine, and the node serves it
 * from the builder's manifest. The manifest is a file written here in the builder's format (the
 * node does not depend on the builder; the CLI hands it the list); no VM is started.
 */
class RuntimeSbomTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ItemHash BUILT = ItemHash.parse("a".repeat(64));
    static final ItemHash UNBUILT = ItemHash.parse("b".repeat(64));

    @TempDir
    static Path dir;
    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        Path manifest = Files.writeString(dir.resolve("manifest.json"), """
                {"schema": 1, "name": "it-runtime", "spec_hash": "%s",
                 "image": {"file": "it-runtime.squashfs", "sha256": "%s", "size": 1024},
                 "sbom": [{"type": "deb", "name": "python3.11", "version": "3.11.2-6+deb12u8", "architecture": "amd64"},
                          {"type": "pip", "name": "fastapi", "version": "0.110.0"}]}
                """.formatted("c".repeat(64), BUILT.value()));
        LocalRuntimeList local = () -> List.of(
                new LocalRuntimeList.Local(entry("local/it-runtime", BUILT), 1024L, manifest),
                new LocalRuntimeList.Local(entry("local/published-elsewhere", UNBUILT), 2048L, null));
        Path fixtures = Files.createDirectories(dir.resolve("fixtures"));
        node = TestNode.start(dir.resolve("home"), new AgentVmLauncher(Duration.ofMillis(300)),
                Files.writeString(fixtures.resolve("runtime.img"), "placeholder"),
                Files.writeString(fixtures.resolve("vmlinux"), "placeholder"), c -> c, List.of(),
                ProgramNetworks.disabled("no networking in this test"), local);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static RuntimeEntry entry(String name, ItemHash hash) {
        return new RuntimeEntry(name, name, hash, RuntimeKind.FUNCTION, "squashfs", RuntimeStatus.SUPPORTED, "", List.of(),
                Optional.empty(), RuntimeOrigin.LOCAL);
    }

    @Test
    void theRuntimesTableLinksTheSbomOfWhatWasBuiltHere() throws Exception {
        HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(node.uri("/"))
                .header("Accept", "text/html").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        String table = page.body().substring(page.body().indexOf("<table id=\"runtimes\">"));
        assertThat(table).contains("<th>SBOM</th>").contains("href=\"/console/runtimes/" + BUILT.value() + "/sbom\"")
                .doesNotContain("/console/runtimes/" + UNBUILT.value() + "/sbom");
    }

    @Test
    void theSbomListsEveryPackageWithItsVersion() throws Exception {
        HttpResponse<String> r = node.get("/console/runtimes/" + BUILT.value() + "/sbom");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode root = JSON.readTree(r.body());
        assertThat(root.path("runtime").asText()).isEqualTo("local/it-runtime");
        assertThat(root.path("image").path("sha256").asText()).isEqualTo(BUILT.value());
        assertThat(root.path("sbom")).hasSize(2);
        assertThat(root.path("sbom").get(1).path("name").asText()).isEqualTo("fastapi");
        assertThat(root.path("sbom").get(0).path("version").asText()).isEqualTo("3.11.2-6+deb12u8");
    }

    @Test
    void aRuntimeWithoutManifestOrAnUnknownOneIsAClear404AndGarbageA400() throws Exception {
        for (ItemHash h : List.of(UNBUILT, ItemHash.parse("d".repeat(64)))) {
            HttpResponse<String> r = node.get("/console/runtimes/" + h.value() + "/sbom");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(r.body()).path("error").path("message").asText()).contains("only runtimes built on this machine");
        }
        HttpResponse<String> bad = node.get("/console/runtimes/not-a-hash/sbom");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("not an item hash").doesNotContain("Exception");
    }
}
