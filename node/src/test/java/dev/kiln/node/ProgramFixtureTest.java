package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.hash.ProgramHostname;
import dev.kiln.core.message.Encoding;
import dev.kiln.network.FakeInternet;
import dev.kiln.network.HostCommands;
import dev.kiln.network.NetnsLab;
import dev.kiln.network.NetworkSettings;
import dev.kiln.network.NodeNetwork;
import dev.kiln.node.export.ExportRecord;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.program.CodePackager;
import dev.kiln.node.program.MessageImport;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.testing.NamespacedQemu;
import dev.kiln.node.testing.QemuImages;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.store.ItemResolver;
import dev.kiln.vm.Vm;
import dev.kiln.vm.qemu.QemuLauncher;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #12's acceptance: the real aleph PROGRAM fixture (fixtures/aleph-messages/program.json)
 * runs through a networked node on real QEMU, with only its references replaced by items published
 * here (code, runtime, the /opt/venv volume, the data archive); every other field is as aleph
 * published it (on.message, aleph_api and shared_cache included). The message is recorded the way {@code kiln message
 * publish} does it ({@link MessageImport}), and run by its hash.
 *
 * <p>One node home, four boots, in order: the program sees its identity, variables, volumes, data
 * and the internet; a file written on the persistent volume /var/lib/example survives an idle stop
 * (keep-warm 5 s; the agent unmounts the volume, so it needs no check), a node restart, and a
 * SIGKILL of QEMU in the middle of writes (checked by e2fsck, clean afterwards); the data directory
 * is exported at each stop. The fixture declares no ephemeral volume: its scratch space is the VM's
 * writable root (a tmpfs overlay), checked empty of the last boot's mark at each boot.
 */
class ProgramFixtureTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MOUNT = "/var/lib/example";

    @RegisterExtension
    final NetnsLab lab = new NetnsLab();

    @TempDir
    Path dir;

    FakeInternet internet;

    @Test
    void theFixtureRunsWithItsVolumesDataExportIdentityAndInternet() throws Exception {
        internet = new FakeInternet(lab);
        TestNode node = startNode();
        try {
            ItemHash program = publishFixture(node);
            String label = ProgramHostname.label(program);

            // 1. first boot: everything the message asks for is there
            JsonNode first = get(node, program, "/");
            assertThat(first.path("hostname").asText()).as("aleph's hostname: base32 of the hash").isEqualTo(label);
            assertThat(first.path("env").path("ALEPH_ADDRESS_TO_USE").asText()).isEqualTo(label);
            assertThat(first.path("env").path("ALEPH_ITEM_HASH").asText()).isEqualTo(program.value());
            assertThat(first.path("env").path("VM_CUSTOM_NUMBER").asText()).as("variables").isEqualTo("32");
            assertThat(first.path("kept")).as("a new persistent volume is empty").isEmpty();
            assertThat(first.path("kept_bytes").asLong()).as("size_mib 5").isLessThanOrEqualTo(5L << 20)
                    .isGreaterThan(3L << 20);
            assertThat(first.path("venv_marker").asText()).as("the immutable volume at /opt/venv").isEqualTo("venv");
            assertThat(first.path("data_input").asText()).as("the data archive unpacked at /data").isEqualTo("input");
            assertThat(first.path("scratch_was_empty").asBoolean()).isTrue();
            assertThat(get(node, program, "/fetch?url=http://" + FakeInternet.HOST_NAME + "/").path("page").asText())
                    .as("environment.internet").contains(FakeInternet.PAGE);
            get(node, program, "/write?name=kept&text=first");
            get(node, program, "/export?name=result.txt&text=exported");

            // 2. idle stop (the node's keep-warm, not resources.seconds): clean detach, data exported
            awaitIdleStop(node, program);
            ExportRecord export = awaitExport(node, program, 1);
            Path image = image(node);
            // The marker goes once the VM's end is processed, if the superblock is clean.
            await("the agent unmounted the volume at halt, so the mark goes").atMost(Duration.ofSeconds(30))
                    .until(() -> !PersistentVolumes.isDirty(image));
            fsckClean(image);
            assertThat(zipEntries(node, export.fileHash())).contains("input.txt", "result.txt");
            assertThat(node.get("/about/volumes").body()).contains(export.message().value());

            JsonNode second = get(node, program, "/");
            assertThat(second.path("kept").toString()).contains("kept");
            assertThat(second.path("scratch_was_empty").asBoolean()).as("the root overlay is new at each boot").isTrue();
            assertThat(get(node, program, "/read?name=kept").path("text").asText()).isEqualTo("first");

            // 3. node restart
            node.close();
            node = startNode();
            JsonNode third = get(node, program, "/read?name=kept");
            assertThat(third.path("text").asText()).as("after a node restart").isEqualTo("first");

            // 4. SIGKILL of QEMU in the middle of writes
            get(node, program, "/churn");
            Thread.sleep(1500);
            Vm vm = node.node.pool().running(program).orElseThrow().vm();
            ProcessHandle.of(vm.pid()).orElseThrow().destroyForcibly();
            TestNode n = node;
            await().atMost(Duration.ofSeconds(60)).until(() -> n.node.pool().running(program).isEmpty());
            assertThat(PersistentVolumes.isDirty(image)).as("an unclean stop keeps the mark").isTrue();
            JsonNode fourth = get(node, program, "/read?name=kept");
            assertThat(fourth.path("text").asText()).as("after SIGKILL mid-write").isEqualTo("first");
            assertThat(fourth.path("kept").toString()).contains("churn-0");
            assertThat(get(node, program, "/").path("scratch_was_empty").asBoolean()).isTrue();
            awaitIdleStop(node, program);
            fsckClean(image);
        } finally {
            node.close();
        }
    }

    /** A node on the test's home; its launcher and network are its own (a node closes both). */
    TestNode startNode() throws Exception {
        QemuLauncher launcher = NamespacedQemu.launcher(lab, internet.node);
        HostCommands nodeNs = lab.in(internet.node);
        NetworkSettings settings = NetworkSettings.defaults().withDns(List.of(FakeInternet.SERVER));
        ProgramNetworks networks = ProgramNetworks.over(NodeNetwork.start(settings, nodeNs), p -> List.of());
        return TestNode.start(dir.resolve("home"), launcher, QemuImages.runtime().image(), QemuImages.kernel(),
                c -> c.withIdleTimeout(Duration.ofSeconds(5)), List.of(), networks);
    }

    /** The fixture with its references replaced by items published here, recorded as {@code kiln message publish} does. */
    ItemHash publishFixture(TestNode node) throws Exception {
        Path apps = Path.of(ProgramFixtureTest.class.getResource("/dev/kiln/node/apps/fixture").toURI());
        ItemHash code = publishPacked(node, apps, Encoding.SQUASHFS, "code.squashfs");
        Path venv = Files.createDirectories(dir.resolve("venv"));
        Files.writeString(venv.resolve("marker"), "venv");
        ItemHash venvRef = publishPacked(node, venv, Encoding.SQUASHFS, "venv.squashfs");
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("input.txt"), "input");
        ItemHash dataRef = publishPacked(node, data, Encoding.ZIP, "data.zip");

        Path fixtures = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(fixtures.resolve("fixtures/aleph-messages"))) fixtures = fixtures.getParent();
        ObjectNode message = (ObjectNode) JSON.readTree(fixtures.resolve("fixtures/aleph-messages/program.json").toFile());
        ObjectNode content = (ObjectNode) JSON.readTree(message.get("item_content").asText());
        ((ObjectNode) content.get("code")).put("ref", code.value());
        ((ObjectNode) content.get("runtime")).put("ref", node.runtime.value());
        ((ObjectNode) content.get("volumes").get(0)).put("ref", venvRef.value());
        ((ObjectNode) content.get("data")).put("ref", dataRef.value());
        String itemContent = JSON.writeValueAsString(content);
        message.put("item_content", itemContent);
        message.set("content", content);
        message.put("item_hash", ItemHash.sha256Of(itemContent.getBytes(StandardCharsets.UTF_8)).value());
        message.put("size", itemContent.getBytes(StandardCharsets.UTF_8).length);

        ProgramResolver resolver = new ProgramResolver(node.nodeRecords.programs(),
                new ItemResolver(node.blobs, node.storeRecords, node.fetcher), node.fetcher);
        MessageImport.Imported imported = new MessageImport(node.nodeRecords.programs(), resolver)
                .publish(JSON.writeValueAsString(message), "fixture");
        assertThat(imported.refusals()).as("nothing refused once the #14 fields are out").isEmpty();
        assertThat(imported.references()).hasSize(4);
        return imported.hash();
    }

    ItemHash publishPacked(TestNode node, Path source, Encoding encoding, String file) throws Exception {
        Path packed = CodePackager.pack(source, encoding, dir.resolve(file));
        return node.localPublisher.publish(packed, null).messageHash();
    }

    static JsonNode get(TestNode node, ItemHash program, String path) throws Exception {
        HttpResponse<String> r = node.get(program, path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static void awaitIdleStop(TestNode node, ItemHash program) {
        await("the keep-warm stops the VM").atMost(Duration.ofSeconds(90))
                .until(() -> node.node.pool().running(program).isEmpty());
    }

    static ExportRecord awaitExport(TestNode node, ItemHash program, int count) {
        var records = node.node.pool().dataExports().orElseThrow().records();
        await("the data directory is exported").atMost(Duration.ofSeconds(60))
                .until(() -> records.latest(program, 10).size() >= count);
        try {
            return records.latest(program, 1).getFirst();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Path image(TestNode node) throws Exception {
        try (var owners = Files.list(node.home.dir("volumes"))) {
            return owners.findFirst().orElseThrow().resolve("data.ext4");
        }
    }

    static void fsckClean(Path image) throws Exception {
        Process p = new ProcessBuilder(dev.kiln.node.volume.Ext4Images.tool("e2fsck").toString(), "-f", "-n",
                image.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("e2fsck -f -n: " + out).isZero();
    }

    static List<String> zipEntries(TestNode node, ItemHash zip) throws Exception {
        List<String> names = new ArrayList<>();
        try (InputStream in = node.blobs.open(zip); ZipInputStream z = new ZipInputStream(in)) {
            for (var e = z.getNextEntry(); e != null; e = z.getNextEntry()) names.add(e.getName());
        }
        return names;
    }
}
