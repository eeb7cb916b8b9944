package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.Node;
import dev.kiln.node.NodeConfig;
import dev.kiln.node.NodeServices;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.BlobStore;
import dev.kiln.store.Fetcher;
import dev.kiln.store.KilnHome;
import dev.kiln.store.records.StoreRecords;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln message post} and {@code kiln message deliveries} against a real node started in this
 * JVM on a temporary home (real webserver, SQLite, operator token; its QEMU launcher is never asked
 * for a VM: no program subscribes to these messages).
 */
class MessagePostTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static KilnHome home;
    static StoreRecords store;
    static NodeRecords records;
    static Node node;

    @BeforeAll
    static void start() throws Exception {
        home = KilnHome.of(dir.resolve("home")).create();
        store = home.openStoreRecords();
        records = NodeRecords.open(home);
        BlobStore blobs = BlobStore.open(home);
        Path kernel = Files.writeString(dir.resolve("vmlinux"), "never booted");
        QemuLauncher launcher = new QemuLauncher(QemuLauncher.Options.in(home.root()).withKernel(kernel));
        node = Node.start(NodeConfig.defaults(kernel).withPort(0),
                new NodeServices(home, blobs, store, new Fetcher(blobs, List.of()), records, launcher));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        if (records != null) records.close();
        if (store != null) store.close();
    }

    record Run(int exit, String out, String err) {
    }

    static Run kiln(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--home";
        all[1] = home.root().toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    static ObjectNode message(String channel) {
        String itemContent = "{\"type\":\"note\",\"address\":\"0x1234567890abcdef1234567890abcdef12345678\",\"time\":1764750000.25,"
                + "\"content\":{\"text\":\"hi\",\"channel\":\"" + channel + "\"}}";
        ObjectNode m = JSON.createObjectNode();
        m.put("chain", "ETH").put("sender", "0x1234567890abcdef1234567890abcdef12345678").put("type", "POST")
                .put("channel", channel).put("item_type", "inline").put("item_content", itemContent)
                .put("item_hash", ItemHash.sha256Of(itemContent.getBytes(StandardCharsets.UTF_8)).value())
                .put("time", 1764750000.25);
        return m;
    }

    @Test
    void postsAMessageAndSaysWhatItTriggered() throws Exception {
        ObjectNode m = message("CLI");
        Path file = Files.writeString(dir.resolve("post.json"), m.toString());
        Run r = kiln("message", "post", file.toString(), "--node-url", node.uri().toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("posted POST message " + m.get("item_hash").asText(), "triggers no program");
        Run d = kiln("message", "deliveries", "--node-url", node.uri().toString());
        assertThat(d.exit()).as(d.toString()).isZero();
        assertThat(d.out()).contains("feed: none", "no deliveries recorded");
    }

    @Test
    void aTamperedMessageIsRefusedWithTheNodesReason() throws Exception {
        ObjectNode m = message("CLI");
        m.put("item_content", m.get("item_content").asText().replace("hi", "ho"));
        Path file = Files.writeString(dir.resolve("tampered.json"), m.toString());
        Run r = kiln("message", "post", file.toString(), "--node-url", node.uri().toString());
        assertThat(r.exit()).isEqualTo(Main.USER_ERROR);
        assertThat(r.err()).contains("refused the message (400 bad_request)", "does not match its hash")
                .doesNotContain("Exception");
    }

    @Test
    void aHomeWithoutTheOperatorTokenSaysSo() throws Exception {
        Path file = Files.writeString(dir.resolve("other.json"), message("CLI").toString());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new String[] {"--home", dir.resolve("elsewhere").toString(), "message", "post", file.toString(),
                "--node-url", node.uri().toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(exit).isEqualTo(Main.USER_ERROR);
        assertThat(err.toString()).contains("no operator token");
    }
}
