package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kiln volume list} through the real launcher, over a home with a real ext4 volume image. */
class VolumeCommandIT {
    @TempDir
    Path dir;

    @Test
    void listShowsEachVolumeWithItsSizeUseAndState() throws Exception {
        Path home = NodeHomes.create(dir.resolve("home"));
        Launcher kiln = new Launcher(home);
        Launcher.Result empty = kiln.run("volume", "list");
        assertThat(empty.exit()).as(empty.toString()).isZero();
        assertThat(empty.out()).contains("no persistent volumes yet");

        // What the node makes: an ext4 image per owner and name, and a dirty marker while attached.
        Path image = Files.createDirectories(home.resolve("volumes").resolve("0xabc")).resolve("data.ext4");
        Files.write(image, new byte[0]);
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        Process mkfs = new ProcessBuilder(List.of("/usr/sbin/mkfs.ext4", "-q", "-F", image.toString()))
                .redirectErrorStream(true).start();
        assertThat(mkfs.waitFor()).as(new String(mkfs.getInputStream().readAllBytes())).isZero();
        Files.writeString(image.resolveSibling("data.ext4.dirty"), "vm-1\n");

        Launcher.Result table = kiln.run("volume", "list");
        assertThat(table.exit()).as(table.toString()).isZero();
        assertThat(table.out()).contains("0xabc", "data", "16 MiB", "not cleanly detached");

        Launcher.Result json = kiln.run("volume", "list", "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonNode v = new ObjectMapper().readTree(json.out()).get(0);
        assertThat(v.path("name").asText()).isEqualTo("data");
        assertThat(v.path("size_mib").asLong()).isEqualTo(16);
        assertThat(v.path("used_bytes").asLong()).as("an empty ext4 still holds its metadata").isPositive()
                .isLessThan(16L << 20);
        assertThat(v.path("dirty").asBoolean()).isTrue();
    }

    @Test
    void validateWarnsAboutTheProgramFieldsANodeRefuses() throws Exception {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(root.resolve("fixtures/aleph-messages"))) root = root.getParent();
        Launcher kiln = new Launcher(NodeHomes.create(dir.resolve("home")));
        Launcher.Result r = kiln.run("message", "validate", root.resolve("fixtures/aleph-messages/program.json").toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("valid");
        assertThat(r.err()).as("every field of the fixture is honoured now").doesNotContain("content.export",
                "content.on.message", "content.environment.aleph_api", "content.environment.shared_cache");
    }
}
