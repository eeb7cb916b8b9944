package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.KilnHome;
import dev.kiln.store.LocalPublisher;
import dev.kiln.store.records.StoreRecords;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln message publish} in-process over a real home (store, SQLite): the aleph fixture as is
 * is refused naming the reference this home lacks; with its references published here it is
 * recorded under its own hash with warnings for what a node refuses, and a second publish says so.
 */
class MessagePublishTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    Run kiln(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--home";
        all[1] = dir.resolve("home").toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = Main.run(all, new PrintWriter(out), new PrintWriter(err));
        return new Run(exit, out.toString(), err.toString());
    }

    static Path fixture() {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("fixtures/aleph-messages"))) p = p.getParent();
        return p.resolve("fixtures/aleph-messages/program.json");
    }

    @Test
    void aMessageWhoseReferencesAreMissingIsRefusedNamingTheField() {
        Run r = kiln("message", "publish", fixture().toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("content.code.ref", "7eb2eca2378ea8855336ed76c8b26219f1cb90234d04441de9cf8cb1c649d003");
    }

    @Test
    void contentWrittenByHandWithItsReferencesHereIsRecordedOnceAndWarnsAboutRefusedFields() throws Exception {
        KilnHome home = KilnHome.of(dir.resolve("home")).create();
        ItemHash code;
        ItemHash runtime;
        try (StoreRecords records = home.openStoreRecords()) {
            LocalPublisher publisher = LocalPublisher.open(home, BlobStore.open(home), records);
            code = publisher.publish(Files.write(dir.resolve("code.zip"), zipWithMain()), null).messageHash();
            runtime = publisher.publish(Files.writeString(dir.resolve("rootfs.img"), "a runtime stands in"), null).messageHash();
        }
        ObjectNode content = (ObjectNode) JSON.readTree(Files.readString(fixture())).get("content");
        ((ObjectNode) content.get("code")).put("ref", code.value()).put("encoding", "zip");
        ((ObjectNode) content.get("runtime")).put("ref", runtime.value());
        content.remove("volumes");
        content.remove("data");
        content.remove("export");
        Path file = Files.writeString(dir.resolve("content.json"), content.toString());

        Run first = kiln("message", "publish", file.toString(), "--name", "by-hand");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).startsWith("recorded PROGRAM message ").contains("content.code.ref", "verified");
        assertThat(first.err()).as("every field of this content is honoured now").doesNotContain("warning: a Kiln node refuses");
        String hash = first.out().substring("recorded PROGRAM message ".length()).lines().findFirst().orElseThrow();
        try (NodeRecords records = NodeRecords.open(home)) {
            var recorded = records.programs().find(ItemHash.parse(hash)).orElseThrow();
            assertThat(recorded.name()).isEqualTo("by-hand");
            assertThat(recorded.sender()).isEqualTo(content.get("address").asText());
        }

        Run again = kiln("message", "publish", file.toString());
        assertThat(again.exit()).isZero();
        assertThat(again.out()).startsWith("already recorded: PROGRAM message " + hash);
    }

    static byte[] zipWithMain() throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        try (var z = new java.util.zip.ZipOutputStream(bytes)) {
            z.putNextEntry(new java.util.zip.ZipEntry("main.py"));
            z.write("async def app(scope, receive, send):\n    pass\n".getBytes());
            z.closeEntry();
        }
        return bytes.toByteArray();
    }
}
